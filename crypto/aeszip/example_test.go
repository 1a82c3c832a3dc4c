package aeszip_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"github.com/sendguard/sendguard/crypto/aeszip"
	"github.com/sendguard/sendguard/crypto/password"
)

// Replace a message's attachments with one AES-256 zip and read it back.
func Example() {
	pw, err := password.New()
	if err != nil {
		log.Fatal(err)
	}
	var archive bytes.Buffer
	zw, err := aeszip.NewWriter(&archive, aeszip.Options{Password: pw})
	if err != nil {
		log.Fatal(err)
	}
	name, err := zw.Add("../見積書.csv", time.Now(), strings.NewReader("品目,金額\n保守,120000\n"))
	if err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored as", name)

	zr, err := zip.NewReader(bytes.NewReader(archive.Bytes()), int64(archive.Len()))
	if err != nil {
		log.Fatal(err)
	}
	f := zr.File[0]
	fmt.Println(aeszip.Name(f), "encrypted:", aeszip.IsEncrypted(f))
	var plain bytes.Buffer
	if _, err := aeszip.Decrypt(f, pw, &plain); err != nil {
		log.Fatal(err) // discard plain: it is unverified
	}
	fmt.Print(plain.String())
	_, err = aeszip.Decrypt(f, "wrong", io.Discard)
	fmt.Println(err)
	// Output:
	// stored as 見積書.csv
	// 見積書.csv encrypted: true
	// 品目,金額
	// 保守,120000
	// aeszip: wrong password
}
