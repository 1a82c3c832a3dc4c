package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/sendguard/sendguard/internal/browsertest"
	"github.com/sendguard/sendguard/internal/sink"
	"github.com/sendguard/sendguard/sent"
)

// The incident kit end to end: a 2,000-person customer list leaves with
// download links to two partner addresses; the sent-mail record finds it;
// in Chromium a reviewer revokes the links (the recipient's page then
// refuses), sends deletion requests (the sink receives one per original
// recipient; the confirm link works once) and opens the PPC draft with
// the number of people.

var confirmRE = regexp.MustCompile(`https?://[^\s"<>]+/del/[A-Za-z0-9_-]{43}`)

// customerCSV is a list of n distinct people.
func customerCSV(n int) string {
	var b strings.Builder
	b.WriteString("氏名,住所,電話番号,メールアドレス\r\n")
	for i := range n {
		fmt.Fprintf(&b, "顧客%d,東京都港区芝%d-%d-%d,090-%04d-%04d,c%d@customer.example.net\r\n",
			i, i/400+1, i/20%20+1, i%20+1, 1000+i/10000, i%10000, i)
	}
	return b.String()
}

func listMail(from string, to []string, csv string) []byte {
	return []byte(fmt.Sprintf("From: <%s>\r\nTo: %s\r\nSubject: 顧客リスト送付\r\nMessage-ID: <incident-list@test>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nご確認ください。\r\n"+
		"--b1\r\nContent-Type: text/csv; charset=utf-8\r\nContent-Disposition: attachment; filename=\"customers.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--b1--\r\n",
		from, angleList(to), base64Lines([]byte(csv))))
}

// base64Lines is data in base64, in lines of 76 characters (RFC 2045).
func base64Lines(data []byte) string {
	b64 := base64.StdEncoding.EncodeToString(data)
	var wrapped strings.Builder
	for len(b64) > 76 {
		wrapped.WriteString(b64[:76] + "\r\n")
		b64 = b64[76:]
	}
	wrapped.WriteString(b64)
	return wrapped.String()
}

// decodedLinks finds confirm links in a raw mail (quoted-printable soft
// breaks removed).
func decodedLinks(data []byte) []string {
	s := strings.ReplaceAll(string(data), "=\r\n", "")
	return slices.Compact(confirmRE.FindAllString(s, -1))
}

// deletionMails are the deletion requests the sink received, by recipient.
func deletionMails(sk *sink.Sink) map[string][]string {
	out := map[string][]string{}
	for _, m := range sk.Messages() {
		if links := decodedLinks(m.Data); len(links) > 0 {
			for _, to := range m.To {
				out[to] = append(out[to], links...)
			}
		}
	}
	return out
}

func addReviewer(t *testing.T, in *instance, name, pass string) (secret string) {
	t.Helper()
	cmd := exec.Command(sendguardBin(t), "user", "add", name, "-role", "reviewer", "-config", in.cfgPath)
	cmd.Stdin = strings.NewReader(pass + "\n")
	out, err := cmd.CombinedOutput()
	m := regexp.MustCompile(`otpauth://totp/\S+`).FindString(string(out))
	if err != nil || m == "" {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	u, err := url.Parse(m)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("secret")
}

func TestIncidentKitBrowser(t *testing.T) {
	node, script := browsertest.Script(t, "incident.mjs")
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	linkPolicy(t, in)
	in.start()
	rcpts := []string{"buyer@partner.test", "boss@partner.test"}
	csv := customerCSV(2000)
	if err := sendMail(in.smtp, "alice@example.com", rcpts, listMail("alice@example.com", rcpts, csv)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool { return len(mailsFrom(sk, "alice@example.com")) == 2 })
	var buyerLink string
	for _, m := range mailsFrom(sk, "alice@example.com") {
		if m.To[0] == "buyer@partner.test" {
			buyerLink = dlLinkRE.FindString(noticeText(t, m.Data))
		}
	}
	if buyerLink == "" {
		t.Fatal("no download link in the buyer's copy")
	}

	// The sent-mail record, through the CLI and the admin socket.
	var recs []sent.Record
	waitFor(t, 10*time.Second, func() bool {
		out, err := in.cli("sent", "find", "-recipient", "buyer@partner.test", "-json")
		return err == nil && json.Unmarshal([]byte(out), &recs) == nil && len(recs) == 1
	})
	rec := recs[0]
	sum := sha256.Sum256([]byte(csv))
	if rec.People != 2000 || !slices.Contains(rec.DataItems, "電話番号") || len(rec.Attachments) != 1 ||
		rec.Attachments[0].SHA256 != hex.EncodeToString(sum[:]) || len(rec.Delivered()) != 2 {
		t.Fatalf("sent record: people %d, items %v, attachments %+v, delivered %v", rec.People, rec.DataItems, rec.Attachments, rec.Delivered())
	}
	for _, args := range [][]string{{"-domain", "partner.test"}, {"-detector", "jp_phone"}, {"-sender", "alice@"}, {"-subject", "顧客"}} {
		out, err := in.cli(append([]string{"sent", "find"}, args...)...)
		if err != nil || !strings.Contains(out, rec.ID) || !strings.Contains(out, "2000") {
			t.Errorf("sent find %v: %v\n%s", args, err, out)
		}
	}
	if out, _ := in.cli("sent", "find", "-domain", "elsewhere.test"); !strings.Contains(out, "no delivered message matches") {
		t.Errorf("sent find of another domain:\n%s", out)
	}
	if out, err := in.cli("sent", "show", rec.ID); err != nil || !strings.Contains(out, "sha256:"+rec.Attachments[0].SHA256) || !strings.Contains(out, "people: 2000") {
		t.Errorf("sent show: %v\n%s", err, out)
	}
	if out, err := in.cli("sent", "show", "0000000000000000000ZZ"); err == nil || !strings.Contains(out, "older than sent.retention") {
		t.Errorf("sent show of a message outside the retention: %v\n%s", err, out)
	}

	secret := addReviewer(t, in, "secteam", "a long enough passphrase")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// The confirm link the buyer received, as the script asks for it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l := deletionMails(sk)["buyer@partner.test"]; len(l) > 0 {
			w.Write([]byte(l[len(l)-1]))
			return
		}
		http.NotFound(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	shots := browsertest.Artifacts(t, "incident")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = filepath.Dir(script)
	cmd.Env = append(os.Environ(),
		"CONSOLE_URL=http://"+in.web+"/console/", "CONSOLE_USER=secteam", "CONSOLE_PASSWORD=a long enough passphrase",
		"CONSOLE_CODE="+code, "RECIPIENT=buyer@partner.test", "LINK_URL="+buyerLink,
		"CONFIRM_URL_SOURCE=http://"+ln.Addr().String()+"/", "PEOPLE=約2,000人分の個人データ（個人情報保護委員会への報告対象となる規模）",
		"PEOPLE_DRAFT=2,000人", "ARTIFACTS="+shots, "USER_DATA_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("incident.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("incident.mjs: %v\n%s", err, in.logs())
	}

	// Deletion requests went to the original recipients only, one each.
	got := deletionMails(sk)
	var to []string
	for a, links := range got {
		to = append(to, a)
		if len(links) != 1 {
			t.Errorf("%s received %d confirm links", a, len(links))
		}
	}
	slices.Sort(to)
	if !slices.Equal(to, []string{"boss@partner.test", "buyer@partner.test"}) {
		t.Errorf("deletion requests went to %v", to)
	}
	if got["boss@partner.test"][0] == got["buyer@partner.test"][0] {
		t.Error("two recipients share a confirm link")
	}
	for _, m := range sk.Messages() {
		if len(decodedLinks(m.Data)) > 0 && bytes.Contains(m.Data, []byte("boss@partner.test")) && slices.Contains(m.To, "buyer@partner.test") {
			t.Error("the buyer's deletion request names the other recipient")
		}
	}
	// Every step is in the audit log with the acting user.
	hist, err := in.cli("queue", "history", rec.ID)
	if err != nil {
		t.Fatalf("queue history: %v\n%s", err, hist)
	}
	for _, want := range []string{"incident_opened", "incident_links_revoked", "incident_deletion_requested", "incident_deletion_confirmed",
		"incident_ppc_draft", "secteam", "buyer@partner.test"} {
		if !strings.Contains(hist, want) {
			t.Errorf("audit history lacks %q:\n%s", want, hist)
		}
	}
}

var reportRE = regexp.MustCompile(`https?://[^\s"<>]+/rep/[A-Za-z0-9_-]{43}`)

// With sent.report_window, the sender's receipt carries a single-use link
// that opens the incident as the sender.
func TestSenderReportsMisdelivery(t *testing.T) {
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "sent:\n  report_window: 1h\n  keep_body: true\n")
	in.start()
	msg := testMessage("alice@example.com", []string{"x@partner.test"}, "wrong-1", "hello")
	if err := sendMail(in.smtp, "alice@example.com", []string{"x@partner.test"}, msg); err != nil {
		t.Fatal(err)
	}
	receipt := waitNotice(t, sk, "alice@example.com", "/rep/")
	links := slices.Compact(reportRE.FindAllString(receipt, -1))
	if len(links) != 1 {
		t.Fatalf("receipt has %d report links:\n%s", len(links), receipt)
	}
	b := newBrowser(t)
	if code, page := b.get(links[0]); code != 200 || !strings.Contains(page, `id="confirm"`) {
		t.Fatalf("report page: %d\n%.400s", code, page)
	}
	if code, page := b.post(links[0], url.Values{}); code != 200 || !strings.Contains(page, `id="done"`) {
		t.Fatalf("report: %d\n%.400s", code, page)
	}
	if code, _ := b.post(links[0], url.Values{}); code != http.StatusNotFound {
		t.Fatalf("second report: %d, want 404", code)
	}
	var recs []sent.Record
	out, err := in.cli("sent", "find", "-sender", "alice@example.com", "-json")
	if err != nil || json.Unmarshal([]byte(out), &recs) != nil || len(recs) != 1 {
		t.Fatalf("sent find: %v\n%s", err, out)
	}
	// The body is kept, encrypted.
	if !recs[0].BodyKept {
		t.Error("body not kept with sent.keep_body")
	}
	if raw, err := os.ReadFile(filepath.Join(in.dir, "data", "sent", recs[0].ID+".sgar")); err != nil || bytes.Contains(raw, []byte("hello")) {
		t.Errorf("kept body: %v (plaintext on disk: %v)", err, bytes.Contains(raw, []byte("hello")))
	}
	if out, err := in.cli("sent", "show", recs[0].ID); err != nil || !strings.Contains(out, "by alice@example.com") {
		t.Fatalf("sent show: %v\n%s", err, out)
	}
	if hist, _ := in.cli("queue", "history", recs[0].ID); !strings.Contains(hist, "incident_reported_by_sender") {
		t.Fatalf("history:\n%s", hist)
	}
	n := 0
	for _, m := range sk.Messages() {
		if slices.Contains(m.To, "alice@example.com") && strings.Contains(strings.ReplaceAll(string(m.Data), "=\r\n", ""), "/rep/") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d receipts, want 1", n)
	}
}
