package rewrite_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/sendguard/sendguard/rewrite"
)

func ExampleBcc() {
	msg := "From: me@example.com\n" +
		"To: =?UTF-8?B?5bGx55Sw?= <yamada@partner.co.jp>, Boss <boss@example.com>\n" +
		"Cc: other@client.jp\n" +
		"Subject: hello\n\nbody\n"
	external := func(addr string) bool { return !strings.HasSuffix(addr, "@example.com") }
	res, err := rewrite.Bcc(os.Stdout, strings.NewReader(msg), external)
	fmt.Println(res.Moved, err)
	// Output:
	// From: me@example.com
	// To: Boss <boss@example.com>
	// Subject: hello
	//
	// body
	// [yamada@partner.co.jp other@client.jp] <nil>
}
