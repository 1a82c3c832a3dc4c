package webserve

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func testConfig() Config {
	return Config{ReadTimeout: time.Second, WriteTimeout: time.Second, IdleTimeout: time.Second,
		MaxHeaderBytes: 8 << 10, MaxBodyBytes: 1 << 20, MaxConnections: 64, MaxConnectionsPerIP: 64}
}

// start serves h on a loopback port under c.
func start(t *testing.T, c Config, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(c, &http.Server{Handler: h})
	done := make(chan struct{})
	go func() { s.Serve(ln); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	})
	return ln.Addr().String()
}

func hello(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	io.WriteString(w, "hello\n")
}

func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reports how long the server took to close c (reading and
// dropping anything it sends), or fails after limit.
func closedWithin(t *testing.T, c net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(limit))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %v", limit)
	}
	return time.Since(start)
}

// get sends one keep-alive GET on c and reads the response.
func get(t *testing.T, c net.Conn, r *bufio.Reader) *http.Response {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestIdleKeepAliveClosed(t *testing.T) {
	addr := start(t, testConfig(), http.HandlerFunc(hello))
	c := dialFrom(t, "127.0.0.1", addr)
	get(t, c, bufio.NewReader(c))
	if d := closedWithin(t, c, 3*time.Second); d > 2*time.Second {
		t.Fatalf("idle connection closed after %v (idle timeout 1s)", d)
	}
}

func TestSlowBodyAndHeadersClosed(t *testing.T) {
	addr := start(t, testConfig(), http.HandlerFunc(hello))
	body := dialFrom(t, "127.0.0.1", addr)
	fmt.Fprintf(body, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nhello")
	hdr := dialFrom(t, "127.0.0.1", addr)
	fmt.Fprintf(hdr, "GET / HTTP/1.1\r\nHost: x\r\n")
	if d := closedWithin(t, body, 3*time.Second); d > 2*time.Second {
		t.Fatalf("slow body kept the connection %v (read timeout 1s)", d)
	}
	if d := closedWithin(t, hdr, 3*time.Second); d > 2*time.Second {
		t.Fatalf("slow headers kept the connection %v", d)
	}
}

func TestBodyLimit(t *testing.T) {
	c := testConfig()
	c.MaxBodyBytes = 100
	addr := start(t, c, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		}
	}))
	resp, err := http.Post("http://"+addr+"/", "text/plain", strings.NewReader(strings.Repeat("x", 101)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("announced body over the limit: %d", resp.StatusCode)
	}
	// Chunked, so no length is announced: the reader stops at the limit.
	resp, err = http.Post("http://"+addr+"/", "text/plain", io.MultiReader(strings.NewReader(strings.Repeat("x", 200))))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked body over the limit: %d", resp.StatusCode)
	}
}

func TestConnectionCapClosesIdleFirstThenWaits(t *testing.T) {
	c := testConfig()
	c.MaxConnections, c.IdleTimeout = 2, time.Minute
	addr := start(t, c, http.HandlerFunc(hello))
	// Two idle keep-alive connections fill the table; a new client is
	// served anyway, the oldest idle one giving way.
	a := dialFrom(t, "127.0.0.1", addr)
	get(t, a, bufio.NewReader(a))
	time.Sleep(50 * time.Millisecond)
	b := dialFrom(t, "127.0.0.1", addr)
	get(t, b, bufio.NewReader(b))
	n := dialFrom(t, "127.0.0.1", addr)
	if resp := get(t, n, bufio.NewReader(n)); resp.StatusCode != 200 {
		t.Fatalf("new client at the cap: %d", resp.StatusCode)
	}
	closedWithin(t, a, 2*time.Second)

	// Two busy connections (headers in progress): a third waits until one
	// ends, and is then served.
	b.Close()
	n.Close()
	s1 := dialFrom(t, "127.0.0.1", addr)
	fmt.Fprintf(s1, "GET / HTTP/1.1\r\nHost: x\r\n")
	s2 := dialFrom(t, "127.0.0.1", addr)
	fmt.Fprintf(s2, "GET / HTTP/1.1\r\nHost: x\r\n")
	time.Sleep(100 * time.Millisecond)
	w := dialFrom(t, "127.0.0.1", addr)
	fmt.Fprintf(w, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	w.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := w.Read(make([]byte, 1)); err == nil {
		t.Fatal("served beyond the connection cap")
	}
	s1.Close()
	w.SetReadDeadline(time.Now().Add(3 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(w), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("waiting client not served once a slot freed: %v", err)
	}
}

func TestPerAddressCap(t *testing.T) {
	c := testConfig()
	c.MaxConnectionsPerIP = 2
	addr := start(t, c, http.HandlerFunc(hello))
	for range 2 {
		fmt.Fprintf(dialFrom(t, "127.0.0.1", addr), "GET / HTTP/1.1\r\nHost: x\r\n")
	}
	time.Sleep(100 * time.Millisecond)
	third := dialFrom(t, "127.0.0.1", addr)
	if d := closedWithin(t, third, time.Second); d > 500*time.Millisecond {
		t.Fatalf("third connection from one address open for %v", d)
	}
	other := dialFrom(t, "127.0.0.2", addr)
	if resp := get(t, other, bufio.NewReader(other)); resp.StatusCode != 200 {
		t.Fatalf("another address: %d", resp.StatusCode)
	}
}

func TestLongDownloadWhileClientReads(t *testing.T) {
	chunk := strings.Repeat("x", 64<<10)
	stopped := make(chan error, 1)
	addr := start(t, testConfig(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stuck" {
			// Far more than socket buffers hold: the writes must block.
			for range 4096 {
				if _, err := io.WriteString(w, chunk); err != nil {
					stopped <- err
					return
				}
			}
			stopped <- nil
			return
		}
		// 3 s of writing under a 1 s write timeout.
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
			if _, err := io.WriteString(w, chunk); err != nil {
				stopped <- err
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		stopped <- nil
	}))
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || <-stopped != nil {
		t.Fatalf("download cut after %d bytes: %v", n, err)
	}
	// A client that stops reading is cut off within the write timeout.
	c := dialFrom(t, "127.0.0.1", addr)
	fmt.Fprintf(c, "GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n")
	select {
	case err := <-stopped:
		if err == nil {
			t.Fatal("a client that reads nothing got the whole response")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("writes to a client that reads nothing never timed out")
	}
}
