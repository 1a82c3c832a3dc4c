package token_test

import (
	"fmt"
	"log"

	"github.com/sendguard/sendguard/crypto/token"
)

// Issue a link token, keep only its hash, and check the link later.
func Example() {
	tok, err := token.New()
	if err != nil {
		log.Fatal(err)
	}
	link := "https://sendguard.example.com/confirm/" + tok.Text() // goes into the notice only
	stored := tok.Hash()                                          // goes into the store

	fromURL := link[len("https://sendguard.example.com/confirm/"):]
	fmt.Println(token.Verify(fromURL, stored))
	fmt.Println(token.Verify(fromURL[:42], stored))
	fmt.Println(tok) // never prints the secret
	// Output:
	// true
	// false
	// token:REDACTED
}
