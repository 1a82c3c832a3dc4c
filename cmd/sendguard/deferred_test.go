package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// largeCSVPart is the body of an external mail with a CSV of about
// 1.2 MB, past the size from which the encryption runs after the 250
// (disposition.DeferMinSize); built once, as it is slow to build under
// the race detector.
var largeCSVPart = sync.OnceValue(func() string {
	// Random figures: deflate works at them for a while (tens of
	// milliseconds), which leaves a kill time to fall inside a rewrite.
	var csv strings.Builder
	csv.WriteString("品番,数量,単価\r\n")
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; csv.Len() < 1200<<10; i++ {
		fmt.Fprintf(&csv, "A-%07d,%d,%d\r\n", i, rng.IntN(1000), rng.IntN(1000000))
	}
	return "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Please find the quote attached.\r\n--b1\r\nContent-Type: text/csv; charset=utf-8\r\nContent-Disposition: attachment; filename=\"quote.csv\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64Lines([]byte(csv.String())) + "\r\n--b1--\r\n"
})

func largeAttachmentMail(from, to, id string) []byte {
	return []byte(fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nSubject: quote %s\r\nMessage-ID: <%s@test>\r\n%s", from, to, id, id, largeCSVPart()))
}

// TestKillNineDeferredRewrites crashes the real binary with SIGKILL while
// large encrypt-class messages are accepted and their deferred rewrites
// run. Every message that got its 250 arrives, and none arrives with its
// attachment in clear: a message killed between its reply and its rewrite
// is rewritten after the restart.
func TestKillNineDeferredRewrites(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	sk := startSink(t)
	in := newInstance(t, sk.Addr, "")
	const from, to = "alice@example.com", "buyer@partner.test"
	var mu sync.Mutex
	accepted := map[string]bool{}
	rng := rand.New(rand.NewPCG(3, 4))
	interrupted, rounds := 0, 0
	// Until a kill has fallen between a message's 250 and its rewrite
	// (seen in the log), within bounds.
	for rounds < 3 || rounds < 12 && rewritesAfterRestart(t, in) == 0 {
		round := rounds
		rounds++
		in.start()
		// The kill follows the round's k-th 250 at once, whatever the
		// machine's speed: that message's rewrite, started just before
		// its reply, is then most likely under way.
		k := 2 + rng.IntN(5)
		var once sync.Once
		killed := make(chan struct{})
		n := 0
		next := make(chan int)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					id := fmt.Sprintf("dk%d-%d", round, i)
					if sendMail(in.smtp, from, []string{to}, largeAttachmentMail(from, to, id)) != nil {
						continue
					}
					mu.Lock()
					accepted[id] = true
					n++
					if n == k {
						go once.Do(func() { in.kill(); close(killed) })
					}
					mu.Unlock()
				}
			}()
		}
		for i := range 60 {
			select {
			case next <- i:
				continue
			case <-killed:
			}
			break
		}
		close(next)
		wg.Wait()
		select {
		case <-killed:
			interrupted++
		default:
			in.kill() // fewer than k accepted: rewrites and deliveries still under way
		}
		once.Do(func() {})
	}
	if interrupted == 0 {
		t.Fatal("no round was killed mid-flight; the test proves nothing")
	}
	in.start()
	mu.Lock()
	want := len(accepted)
	mu.Unlock()
	if want == 0 {
		t.Fatal("no message was accepted at all")
	}
	idRE := regexp.MustCompile(`Message-ID: <([^@]+)@test>`)
	deadline := time.Now().Add(90 * time.Second)
	for {
		got := map[string]bool{}
		for _, m := range sk.Messages() {
			if sm := idRE.FindSubmatch(m.Data); sm != nil && m.From == from {
				got[string(sm[1])] = true
			}
		}
		missing := 0
		for id := range accepted {
			if !got[id] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d accepted messages never arrived\n%s", missing, want, in.logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
	mails, notices := 0, 0
	for _, m := range sk.Messages() {
		switch {
		case m.From == from:
			mails++
			zipOf(t, m.Data) // the zip is there, the CSV is not
		case m.From == "" && len(m.To) == 1 && m.To[0] == from && strings.Contains(noticeText(t, m.Data), "Password:"):
			notices++
		}
	}
	if notices < want {
		t.Fatalf("%d password notices for %d accepted messages", notices, want)
	}
	after := rewritesAfterRestart(t, in)
	t.Logf("%d accepted across %d kills (%d mid-flight), %d copies delivered, all encrypted; %d password notices; %d rewrites run after the restart that followed their 250",
		want, rounds, interrupted, mails, notices, after)
	if after == 0 {
		t.Fatalf("no kill fell between a 250 and its rewrite in %d rounds: the restart path was not exercised", rounds)
	}
}

var logQueueIDRE = regexp.MustCompile(`queue_id=(\S+)`)

// rewritesAfterRestart counts the deferred rewrites the instance's log
// shows done by a later run than the one that accepted their message.
func rewritesAfterRestart(t testing.TB, in *instance) int {
	b, err := os.ReadFile(filepath.Join(in.dir, "sendguard.log"))
	if err != nil {
		t.Fatal(err)
	}
	run, n := 0, 0
	acceptedIn := map[string]int{}
	for _, l := range strings.Split(string(b), "\n") {
		m := logQueueIDRE.FindStringSubmatch(l)
		switch {
		case strings.Contains(l, `msg="sendguard started"`):
			run++
		case m == nil:
		case strings.Contains(l, "msg=message") && strings.Contains(l, "status=queued"):
			acceptedIn[m[1]] = run
		case strings.Contains(l, `msg="rewritten message queued"`):
			if r, ok := acceptedIn[m[1]]; ok && r < run {
				n++
			}
		}
	}
	return n
}
