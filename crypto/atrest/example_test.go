package atrest_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/sendguard/sendguard/crypto/atrest"
)

// Store an attachment encrypted and read it back.
func Example() {
	secret, err := atrest.GenerateKey() // kept in the server's key file
	if err != nil {
		log.Fatal(err)
	}
	mk, err := atrest.NewMasterKey(secret)
	if err != nil {
		log.Fatal(err)
	}
	var stored bytes.Buffer // a spool file in practice
	w, err := atrest.NewWriter(&stored, mk)
	if err != nil {
		log.Fatal(err)
	}
	io.Copy(w, strings.NewReader("顧客リスト"))
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	r, err := atrest.NewReader(&stored, mk)
	if err != nil {
		log.Fatal(err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		log.Fatal(err) // tampered or truncated: serve nothing
	}
	fmt.Println(string(plain))
	// Output: 顧客リスト
}
