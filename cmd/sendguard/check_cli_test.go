package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// luhnComplete appends the Luhn check digit to 15 digits.
func luhnComplete(d15 string) string {
	sum := 0
	for i := len(d15) - 1; i >= 0; i-- {
		v := int(d15[i] - '0')
		if (len(d15)-1-i)%2 == 0 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return fmt.Sprintf("%s%d", d15, (10-sum%10)%10)
}

func writeCheckFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCheckT(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = runCheck(args, &o, &e)
	return code, o.String(), e.String()
}

// The customer's card number goes to an internal colleague in To and to a
// personal address only in the envelope (Bcc): with the envelope, check
// decides as serve would.
func TestCheckEnvelope(t *testing.T) {
	dir := t.TempDir()
	card := luhnComplete("453914880343646")
	msg := writeCheckFile(t, dir, "bcc.eml", "From: sato@example.com\r\nTo: suzuki@example.com\r\nSubject: 決済情報\r\n\r\nカード番号 "+
		card[:4]+"-"+card[4:8]+"-"+card[8:12]+"-"+card[12:]+" でお願いします。\r\n")

	code, out, errOut := runCheckT(t, "-json", msg)
	if code != checkExitDeliver {
		t.Fatalf("header recipients only: exit %d, stderr %s", code, errOut)
	}
	var o checkOutput
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}
	if o.Envelope.Source != "headers" || len(o.Envelope.Recipients) != 1 || o.Actions[0] != "deliver" {
		t.Fatalf("without flags: %+v actions %v", o.Envelope, o.Actions)
	}

	code, out, errOut = runCheckT(t, "-json", "-from", "sato@example.com", "-rcpt", "suzuki@example.com", "-rcpt", "<me@private-mail.example.net>", msg)
	if code != checkExitHold {
		t.Fatalf("with a Bcc-only external recipient: exit %d, stderr %s, out %s", code, errOut, out)
	}
	o = checkOutput{}
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}
	if o.Envelope.Source != "flags" || o.Envelope.From != "sato@example.com" ||
		strings.Join(o.Envelope.Recipients, " ") != "suzuki@example.com me@private-mail.example.net" {
		t.Fatalf("envelope %+v", o.Envelope)
	}
	if o.Actions[0] != "hold_review" || o.Recipients.External != 1 || o.Recipients.VisibleExternal != 0 {
		t.Fatalf("actions %v recipients %+v", o.Actions, o.Recipients)
	}
}

// The sender's identity is the envelope sender, as in serve.
func TestCheckEnvelopeSender(t *testing.T) {
	dir := t.TempDir()
	pol := writeCheckFile(t, dir, "policy.yaml", `version: 1
rules:
  - name: ceo-only
    when: sender == "ceo@example.com"
    actions: [hold_approver]
    reason: {ja: 確認します。, en: To be approved.}
  - name: default
    when: "true"
    actions: [deliver]
`)
	cfg := writeCheckFile(t, dir, "config.yaml", "internal_domains: [example.com]\npolicy: "+pol+"\n")
	msg := writeCheckFile(t, dir, "m.eml", "From: ceo@example.com\r\nTo: a@example.com\r\nSubject: x\r\n\r\nhello\r\n")
	if code, _, e := runCheckT(t, "-config", cfg, msg); code != checkExitDeliver {
		t.Fatalf("no envelope sender: exit %d %s", code, e)
	}
	if code, out, e := runCheckT(t, "-config", cfg, "-from", "ceo@example.com", msg); code != checkExitHold || !strings.Contains(out, "hold_approver") {
		t.Fatalf("envelope sender: exit %d %s %s", code, out, e)
	}
}

func TestCheckCLIErrorsAndHelp(t *testing.T) {
	dir := t.TempDir()
	readme := writeCheckFile(t, dir, "README.md", "# sendguard\n\nAn SMTP gateway.\n\nSubject: not a header\n")
	csv := writeCheckFile(t, dir, "list.csv", "氏名,電話\n山田,03-1234-5678\n")
	good := writeCheckFile(t, dir, "ok.eml", "From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhello\r\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring, "" = must be empty
		stderr string
	}{
		{"help", []string{"-h"}, checkExitDeliver, "usage: sendguard check", ""},
		{"long help", []string{"--help"}, checkExitDeliver, "Exit status", ""},
		{"no files", nil, checkExitError, "", "usage: sendguard check"},
		{"unknown flag", []string{"-bogus", good}, checkExitError, "", "-bogus"},
		{"bad rcpt", []string{"-rcpt", "not an address", good}, checkExitError, "", "-rcpt"},
		{"README is not mail", []string{readme}, checkExitError, "", "not a mail message"},
		{"CSV is not mail", []string{"-json", csv}, checkExitError, "", "not a mail message"},
		{"missing file", []string{filepath.Join(dir, "nope.eml")}, checkExitError, "", "nope.eml"},
		{"one bad file among good ones", []string{good, readme}, checkExitError, "decision: deliver", "README.md"},
		{"delivered", []string{good}, checkExitDeliver, "decision: deliver", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCheckT(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut)
			}
			if tc.stdout == "" && out != "" || !strings.Contains(out, tc.stdout) {
				t.Errorf("stdout %q, want %q", out, tc.stdout)
			}
			if tc.stderr == "" && errOut != "" || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr %q, want %q", errOut, tc.stderr)
			}
		})
	}
}

// Locations are printed once: "attachment: 顧客リスト.csv", never
// "attachment: attachment:顧客リスト.csv".
func TestCheckTextOutputLocations(t *testing.T) {
	code, out, errOut := runCheckT(t, "../../testdata/rules/zip-csv.eml", "../../testdata/rules/customers-csv-sjis.eml")
	if code == checkExitError {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "attachment: attachment:") || !strings.Contains(out, "  attachment: ") {
		t.Fatalf("text output:\n%s", out)
	}
}

func TestLooksLikeMessage(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"From: a@example.com\r\nSubject: x\r\n\r\nbody", true},
		{"From a@example.com Mon Jan  1 00:00:00 2024\nFrom: a@example.com\n\nbody", true},
		{"Subject  : obsolete syntax\r\n\r\n", true},
		{" From: folded first line\r\nTo: b@example.com\r\n\r\n", true},
		{"Received: from x\r\n\tby y\r\nX-Mailer: z\r\nthis line is broken\r\n\r\n", true},
		{"X-Only: a\r\n\r\nbody", false},
		{"# README\n\nSubject: x\n", false},
		{"氏名,電話\n山田,03\n", false},
		{"\r\nFrom: a@example.com\r\n", false},
		{"", false},
	} {
		if got := looksLikeMessage([]byte(tc.in)); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
		}
	}
}

// The configuration's dictionaries, patterns and allowed values reach the
// analysis, and a policy asks for them by name.
func TestCheckCompanyDictionaries(t *testing.T) {
	dir := t.TempDir()
	terms := writeCheckFile(t, dir, "projects.txt", "# code names\nオーロラ計画\n")
	pol := writeCheckFile(t, dir, "policy.yaml", `version: 1
rules:
  - name: projects
    when: recipients.external > 0 && (finding("keyword:secret") > 0 || finding("pattern:project_code", "filename:") > 0)
    actions: [hold_sender]
    reason: {ja: 案件名が含まれています。, en: A project name is mentioned.}
  - name: default
    when: "true"
    actions: [deliver]
`)
	cfg := writeCheckFile(t, dir, "config.yaml", "internal_domains: [example.com]\npolicy: "+pol+`
detect:
  dictionaries:
    - {name: projects, level: secret, file: `+terms+`}
  patterns:
    - {name: project_code, regex: 'PRJ-[0-9]{4}'}
  allow:
    values: ["03-1234-5678"]
`)
	mail := func(subject, name string) string {
		return writeCheckFile(t, dir, name+".eml", "From: a@example.com\r\nTo: x@partner.test\r\nSubject: "+subject+
			"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n代表 TEL 03-1234-5678\r\n"+
			"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\""+name+".txt\"\r\n\r\nmemo\r\n--b--\r\n")
	}
	for _, tc := range []struct {
		file string
		code int
	}{
		{mail("=?UTF-8?B?44Kq44O844Ot44Op6KiI55S744Gu5Lu2?=", "notes"), checkExitHold}, // オーロラ計画の件
		{mail("ご相談", "PRJ-0042"), checkExitHold},
		{mail("ご相談", "notes2"), checkExitDeliver},
	} {
		code, out, errOut := runCheckT(t, "-config", cfg, "-json", tc.file)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", filepath.Base(tc.file), code, tc.code, out, errOut)
		}
		if strings.Contains(out, `"jp_phone"`) {
			t.Errorf("allowed number reported: %s", out)
		}
	}
}

// A 1 GB header-less CSV given as a mail is refused from its first bytes,
// not read (the file is sparse: nothing is written beyond them).
func TestCheckRefusesHugeNonMailQuickly(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dump.csv")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		fmt.Fprintf(f, "%07d,顧客%07d,090-1234-%04d\n", i, i, i)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Skip("no sparse files here:", err)
	}
	f.Close()
	start := time.Now()
	code, _, errOut := runCheckT(t, p)
	if code != checkExitError || !strings.Contains(errOut, "not a mail message") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s: the file was read", d)
	}
}
