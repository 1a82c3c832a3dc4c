package rewrite

import (
	"bytes"
	"strings"
	"testing"
)

// TestEncryptStructures covers structures the fixtures do not: each case
// lists the file names expected in the zip and texts that must survive.
func TestEncryptStructures(t *testing.T) {
	cases := []struct {
		name  string
		msg   string
		files []string
		keep  []string
	}{
		{
			name: "only attachments, LF, padded delimiters",
			msg: "Subject: s\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b  \n" +
				"Content-Type: application/zip; name=\"secret.zip\"\nContent-Transfer-Encoding: base64\n\nUEsDBA==\n--b\t\n" +
				"Content-Type: image/png\nContent-ID: <i@x>\n\nPNGDATA\n--b--  \n",
			files: []string{"secret.zip", "attachment2.png"},
		},
		{
			name: "nested mixed keeps its body part",
			msg: "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\npre\r\n--i\r\n" +
				"Content-Type: text/plain\r\n\r\ninner body\r\n--i\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nAAA\r\n--i--\r\nepi\r\n--o--\r\n",
			files: []string{"a.txt"},
			keep:  []string{"--o\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\npre\r\n--i\r\nContent-Type: text/plain\r\n\r\ninner body\r\n--i--\r\nepi\r\n--o\r\nContent-Type: application/zip"},
		},
		{
			name: "inline text with a file name is a file, calendar text is kept",
			msg: "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\n--b\r\n" +
				"Content-Type: text/plain; name=\"sig.txt\"\r\nContent-Disposition: inline\r\n\r\nsig\r\n--b--\r\n",
			files: []string{"sig.txt"},
			keep:  []string{"Content-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR"},
		},
		{
			name: "100-character boundary",
			msg: "Content-Type: multipart/mixed; boundary=\"" + strings.Repeat("x", 100) + "\"\r\n\r\n--" + strings.Repeat("x", 100) +
				"\r\nContent-Disposition: attachment; filename=a.bin\r\n\r\nA\r\n--" + strings.Repeat("x", 100) + "--\r\n",
			files: []string{"a.bin"},
		},
		{
			name: "same names are made unique, unsafe names sanitised",
			msg: "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Disposition: attachment; filename=\"../x/a.txt\"\r\n\r\n1\r\n--b\r\n" +
				"Content-Disposition: attachment; filename=\"a.txt\"\r\n\r\n2\r\n--b\r\nContent-Disposition: attachment; filename=\"CON.txt\"\r\n\r\n3\r\n--b--\r\n",
			files: []string{"a.txt", "a (2).txt", "_CON.txt"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, res := encrypt(t, []byte(c.msg), testOptions())
			var names []string
			for _, f := range res.Files {
				names = append(names, f.Name)
			}
			if strings.Join(names, "|") != strings.Join(c.files, "|") {
				t.Errorf("files %q, want %q", names, c.files)
			}
			for _, k := range c.keep {
				if !bytes.Contains(out, []byte(k)) {
					t.Errorf("output lacks %q:\n%s", k, out)
				}
			}
			zipFromOutput(t, out, res.ZipName)
		})
	}
}
