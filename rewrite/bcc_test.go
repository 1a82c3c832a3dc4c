package rewrite

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"
	"github.com/jhillyerd/enmime/v2"
)

func TestBccGolden(t *testing.T) {
	cases := []struct {
		file      string
		wantMoved int
		wantKept  int
		wantErr   error
		wantTo    []string // visible addresses after the rewrite, To then Cc
	}{
		{file: "bcc-folded.eml", wantMoved: 21, wantKept: 2,
			wantTo: []string{"hanako.sato@example.com", "boss@sales.example.com"}},
		{file: "bcc-groups.eml", wantMoved: 5, wantKept: 2,
			wantTo: []string{"bob@example.com", "dan@example.com"}},
		{file: "bcc-all-external.eml", wantMoved: 4, wantKept: 0, wantTo: nil},
		{file: "bcc-broken.eml", wantMoved: 1, wantKept: 1, wantErr: ErrFieldKept,
			wantTo: []string{"internal@example.com"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			in := readFixture(t, c.file)
			var out bytes.Buffer
			res, err := Bcc(&out, bytes.NewReader(in), isExternal)
			if c.wantErr == nil && err != nil || c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if len(res.Moved) != c.wantMoved || res.Kept != c.wantKept {
				t.Errorf("moved %d kept %d, want %d and %d: %+v", len(res.Moved), res.Kept, c.wantMoved, c.wantKept, res)
			}
			for _, a := range res.Moved {
				if !isExternal(a) {
					t.Errorf("moved internal address %s", a)
				}
			}
			checkGolden(t, strings.TrimSuffix(c.file, ".eml")+".bcc.eml", out.Bytes())
			js, _ := json.MarshalIndent(res, "", "  ")
			checkGolden(t, strings.TrimSuffix(c.file, ".eml")+".bcc.json", append(js, '\n'))
			checkBccFaithful(t, in, out.Bytes())
			if c.file != "bcc-broken.eml" {
				got := visibleAddresses(t, out.Bytes())
				if strings.Join(got, ",") != strings.Join(c.wantTo, ",") {
					t.Errorf("visible = %v, want %v", got, c.wantTo)
				}
			}
		})
	}
}

// checkBccFaithful: every field but To/Cc and the body are byte-identical,
// and both go-message and enmime parse the output.
func checkBccFaithful(t *testing.T, in, out []byte) {
	t.Helper()
	n1, r1, b1 := rawFields(t, in)
	n2, r2, b2 := rawFields(t, out)
	k1 := fieldsExcept(n1, r1, "To", "Cc")
	k2 := fieldsExcept(n2, r2, "To", "Cc")
	if len(k1) != len(k2) {
		t.Fatalf("kept %d fields, want %d", len(k2), len(k1))
	}
	for i := range k1 {
		if !bytes.Equal(k1[i], k2[i]) {
			t.Errorf("field %d changed:\n%q\n%q", i, k1[i], k2[i])
		}
	}
	if !bytes.Equal(b1, b2) {
		t.Error("body changed")
	}
	if _, err := enmime.ReadEnvelope(bytes.NewReader(out)); err != nil {
		t.Errorf("enmime: %v", err)
	}
	mr, err := mail.CreateReader(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("go-message: %v", err)
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("go-message part: %v", err)
		}
		if _, err := io.Copy(io.Discard, p.Body); err != nil {
			t.Fatalf("go-message body: %v", err)
		}
	}
}

// visibleAddresses lists the To then Cc addresses as go-message reads them.
func visibleAddresses(t *testing.T, msg []byte) []string {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range []string{"To", "Cc"} {
		as, err := mr.Header.AddressList(k)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		for _, a := range as {
			out = append(out, a.Address)
		}
	}
	return out
}

func TestBccUndisclosed(t *testing.T) {
	in := readFixture(t, "bcc-all-external.eml")
	var out bytes.Buffer
	if _, err := Bcc(&out, bytes.NewReader(in), isExternal); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if strings.Count(s, "To: undisclosed-recipients:;\r\n") != 1 || strings.Contains(s, "Cc:") ||
		strings.Count(s, "\nTo:") != 1 {
		t.Errorf("want exactly one undisclosed To and no Cc:\n%s", s)
	}
}

func TestBccNothingExternalIsIdentity(t *testing.T) {
	for _, f := range []string{"bcc-folded.eml", "bcc-groups.eml"} {
		in := readFixture(t, f)
		var out bytes.Buffer
		res, err := Bcc(&out, bytes.NewReader(in), func(string) bool { return false })
		if err != nil || len(res.Moved) != 0 {
			t.Fatalf("%s: %v %+v", f, err, res)
		}
		if !bytes.Equal(in, out.Bytes()) {
			t.Errorf("%s: output differs from input", f)
		}
	}
}

func TestBccHeaderErrorsWriteNothing(t *testing.T) {
	for name, in := range map[string]string{
		"no field name":      "From: a@example.com\r\nthis is not a header\r\n\r\nbody",
		"continuation first": " folded\r\nTo: a@b.jp\r\n\r\n",
		"too large":          "X: " + strings.Repeat("a", maxHeaderBytes) + "\r\n\r\n",
	} {
		var out bytes.Buffer
		_, err := Bcc(&out, strings.NewReader(in), isExternal)
		if err == nil {
			t.Errorf("%s: no error", name)
		}
		if out.Len() != 0 {
			t.Errorf("%s: wrote %d bytes on error", name, out.Len())
		}
	}
}

func TestBccFoldsLongLines(t *testing.T) {
	var to []string
	for i := 0; i < 30; i++ {
		to = append(to, "Internal Person <person"+strings.Repeat("x", i)+"@example.com>")
	}
	in := "To: " + strings.Join(to, ", ") + ", out@partner.jp\r\n\r\nbody\r\n"
	var out bytes.Buffer
	res, err := Bcc(&out, strings.NewReader(in), isExternal)
	if err != nil || len(res.Moved) != 1 || res.Kept != 30 {
		t.Fatalf("%v %+v", err, res)
	}
	for _, l := range strings.Split(out.String(), "\r\n") {
		if len(l) > 78 {
			t.Errorf("line of %d chars: %q", len(l), l)
		}
	}
}

func TestSplitAddressList(t *testing.T) {
	items, err := splitAddressList(` "a, b" <x@y>, g: m1@a (c, d), <m2@b>;, z@w,, `)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[0].text != `"a, b" <x@y>` || !items[1].group ||
		len(items[1].members) != 2 || items[2].text != "z@w" {
		t.Fatalf("%+v", items)
	}
	for _, bad := range []string{`"open`, `(open`, `<open`, `g: a@b`} {
		if _, err := splitAddressList(bad); !errors.Is(err, ErrBadAddress) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}
