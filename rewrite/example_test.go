package rewrite_test

import (
	"fmt"
	"io"
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

func ExampleReplaceAttachments() {
	msg := "From: me@example.com\r\nTo: a@partner.co.jp, b@client.jp\r\nSubject: files\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--b\r\nContent-Type: application/pdf; name=\"q.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n"
	store := func(f rewrite.AttachmentFile, r io.Reader) error {
		b, err := io.ReadAll(r) // a real store encrypts at rest, streaming
		fmt.Printf("stored %s (%s): %q\n", f.Name, f.ContentType, b)
		return err
	}
	r, err := rewrite.ReplaceAttachments(strings.NewReader(msg), rewrite.ReplaceOptions{Store: store})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	for _, rcpt := range []string{"a@partner.co.jp", "b@client.jp"} {
		var out strings.Builder
		note := "Download: https://sendguard.example.com/d/TOKEN-FOR-" + rcpt + "\n"
		if err := r.Write(&out, note); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(rcpt, strings.Count(out.String(), "see attached"), strings.Contains(out.String(), "JVBERi0="))
	}
	// Output:
	// stored q.pdf (application/pdf): "%PDF-"
	// a@partner.co.jp 1 false
	// b@client.jp 1 false
}
