package outbound

import (
	"errors"
	"log"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/foxcpp/go-mockdns"
)

// mxWorld is a mock DNS server plus sinks on 127.0.0.2 and 127.0.0.3 that
// share one port, as MX hosts share port 25. 127.0.0.4 on that port is
// closed: an MX that is down.
type mxWorld struct {
	c        *Client
	mx1, mx2 *sink
	port     int
	res      *net.Resolver
}

func newMXWorld(t *testing.T, zones map[string]mockdns.Zone) *mxWorld {
	t.Helper()
	lns := listenSamePort(t, "127.0.0.2", "127.0.0.3")
	w := &mxWorld{mx1: startSink(t, sinkOpts{ln: lns[0]}), mx2: startSink(t, sinkOpts{ln: lns[1]})}
	w.port, _ = strconv.Atoi(portOf(w.mx1.addr))
	srv, err := mockdns.NewServerWithLogger(zones, log.New(nopWriter{}, "", 0), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	w.res = srv.NewResolver()
	w.c = newClient(t, Config{NextHop: NextHopMX, TLS: TLSNone, MXPort: w.port, Resolver: w.res})
	return w
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

var mxZones = map[string]mockdns.Zone{
	// Preference order: mx1 (10) before mx2 (20), listed backwards.
	"pref.test.":     {MX: []net.MX{{Host: "mx2.pref.test.", Pref: 20}, {Host: "mx1.pref.test.", Pref: 10}}},
	"mx1.pref.test.": {A: []string{"127.0.0.2"}},
	"mx2.pref.test.": {A: []string{"127.0.0.3"}},
	// The preferred MX is down: fall back to the second.
	"down.test.":      {MX: []net.MX{{Host: "dead.down.test.", Pref: 5}, {Host: "live.down.test.", Pref: 50}}},
	"dead.down.test.": {A: []string{"127.0.0.4"}},
	"live.down.test.": {A: []string{"127.0.0.3"}},
	// No MX: the domain's own address is the implicit MX.
	"implicit.test.": {A: []string{"127.0.0.2"}},
	// RFC 7505 null MX.
	"nullmx.test.": {MX: []net.MX{{Host: ".", Pref: 0}}, A: []string{"127.0.0.2"}},
	// IDN: 例え.jp as DNS stores it.
	"xn--r8jz45g.jp.": {A: []string{"127.0.0.3"}},
	// SERVFAIL.
	"broken.test.": {Err: errors.New("servfail")},
	// MX whose host does not exist.
	"lame.test.": {MX: []net.MX{{Host: "nohost.lame.test.", Pref: 10}}},
}

func TestMXDelivery(t *testing.T) {
	w := newMXWorld(t, mxZones)
	for _, tc := range []struct {
		rcpt      string
		delivered bool
		temp      bool
		enhanced  string
		at        *sink
	}{
		{"u@pref.test", true, false, "2.0.0", w.mx1},
		{"u@down.test", true, false, "2.0.0", w.mx2},
		{"u@implicit.test", true, false, "2.0.0", w.mx1},
		{"u@nullmx.test", false, false, "5.1.10", nil},
		{"u@nxdomain.test", false, false, "5.1.2", nil},
		{"u@broken.test", false, true, "4.4.3", nil},
		{"u@lame.test", false, false, "5.4.4", nil},
		{"u@[127.0.0.3]", true, false, "2.0.0", w.mx2},
		{"u@例え.jp", true, false, "2.0.0", w.mx2},
		{"u@[IPv6:::1]:x", false, false, "5.1.3", nil},
	} {
		t.Run(tc.rcpt, func(t *testing.T) {
			before1, before2 := len(w.mx1.messages()), len(w.mx2.messages())
			r := deliver(t, w.c, Envelope{MailFrom: "a@example.com", Rcpts: []string{tc.rcpt}})[0]
			if r.Delivered != tc.delivered || r.Temporary != tc.temp || r.Enhanced != tc.enhanced {
				t.Fatalf("got %+v", r)
			}
			got1, got2 := len(w.mx1.messages())-before1, len(w.mx2.messages())-before2
			switch tc.at {
			case w.mx1:
				if got1 != 1 || got2 != 0 {
					t.Fatalf("mx1 got %d, mx2 got %d; want mx1", got1, got2)
				}
			case w.mx2:
				if got1 != 0 || got2 != 1 {
					t.Fatalf("mx1 got %d, mx2 got %d; want mx2", got1, got2)
				}
				if tc.rcpt == "u@down.test" && !strings.HasPrefix(r.RemoteHost, "live.down.test[127.0.0.3]") {
					t.Errorf("RemoteHost = %q", r.RemoteHost)
				}
			default:
				if got1+got2 != 0 {
					t.Fatal("a sink got mail")
				}
			}
		})
	}
}

func TestMXGroupsByDomain(t *testing.T) {
	w := newMXWorld(t, mxZones)
	res := deliver(t, w.c, Envelope{MailFrom: "a@example.com",
		Rcpts: []string{"a@pref.test", "b@down.test", "c@PREF.test", "d@nullmx.test"}})
	for i, want := range []bool{true, true, true, false} {
		if res[i].Delivered != want {
			t.Errorf("%s: %+v", res[i].Rcpt, res[i])
		}
	}
	m1, m2 := w.mx1.messages(), w.mx2.messages()
	if len(m1) != 1 || strings.Join(m1[0].rcpts, ",") != "a@pref.test,c@PREF.test" {
		t.Errorf("mx1 got %+v", m1)
	}
	if len(m2) != 1 || strings.Join(m2[0].rcpts, ",") != "b@down.test" {
		t.Errorf("mx2 got %+v", m2)
	}
}

func TestSortMXRandomisesEqualPreference(t *testing.T) {
	mxs := []*net.MX{{Host: "c.", Pref: 20}, {Host: "a.", Pref: 10}, {Host: "b.", Pref: 10}}
	seen := map[string]bool{}
	for range 200 {
		got := sortMX(mxs)
		if got[2] != "c" {
			t.Fatalf("order %v: higher preference value must come last", got)
		}
		seen[got[0]] = true
	}
	if !seen["a"] || !seen["b"] {
		t.Fatalf("equal preferences never reordered: %v", seen)
	}
}

func TestSmarthostLookups(t *testing.T) {
	w := newMXWorld(t, mxZones)
	port := strconv.Itoa(w.port)
	for hop, at := range map[string]*sink{
		"down.test:" + port:       w.mx2, // MX lookup, first MX down
		"[mx1.pref.test]:" + port: w.mx1, // no MX lookup
		"[127.0.0.3]:" + port:     w.mx2,
	} {
		c := newClient(t, Config{NextHop: hop, TLS: TLSNone, Resolver: w.res})
		before := len(at.messages())
		wantDelivered(t, deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"x@elsewhere.test"}}))
		if len(at.messages()) != before+1 {
			t.Errorf("%s: not delivered at the expected host", hop)
		}
	}
	// An unresolvable smarthost defers: it is our configuration, not the
	// recipient's fault.
	c := newClient(t, Config{NextHop: "[nowhere.test]:" + port, TLS: TLSNone, Resolver: w.res})
	if r := deliver(t, c, Envelope{MailFrom: "a@example.com", Rcpts: []string{"x@elsewhere.test"}})[0]; !r.Temporary {
		t.Errorf("unresolvable smarthost: %+v", r)
	}
}
