package adminapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// protoFields walks a protobuf message's top-level fields (varint, 64-bit,
// length-delimited, 32-bit) and returns which field numbers occur.
func protoFields(b []byte) (map[uint64]bool, error) {
	seen := map[uint64]bool{}
	varint := func() (uint64, error) {
		var v uint64
		for i := 0; i < 10 && len(b) > 0; i++ {
			c := b[0]
			b = b[1:]
			v |= uint64(c&0x7f) << (7 * i)
			if c < 0x80 {
				return v, nil
			}
		}
		return 0, errors.New("bad varint")
	}
	for len(b) > 0 {
		tag, err := varint()
		if err != nil {
			return nil, err
		}
		var n uint64
		switch tag & 7 {
		case 0:
			_, err = varint()
		case 1:
			n = 8
		case 2:
			n, err = varint()
		case 5:
			n = 4
		default:
			return nil, fmt.Errorf("wire type %d", tag&7)
		}
		if err != nil || n > uint64(len(b)) {
			return nil, errors.New("truncated field")
		}
		b = b[n:]
		seen[tag>>3] = true
	}
	return seen, nil
}

// TestDebugProfilesOnSocket serves the admin handler on a real Unix socket
// and checks that CPU and heap profiles come back in pprof's format
// (gzip-compressed protobuf whose first field is Profile.sample_type).
func TestDebugProfilesOnSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), AdminSocket)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: (&Admin{Log: slog.New(slog.DiscardHandler)}).Handler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}}
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := hc.Get("http://sendguard" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	for _, p := range []string{"/debug/pprof/profile?seconds=0.3", "/debug/pprof/heap?gc=1", "/debug/pprof/goroutine"} {
		resp, body := get(p)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s %s", p, resp.Status, body)
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: not gzip: %v", p, err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: gunzip: %v", p, err)
		}
		fields, err := protoFields(raw)
		if err != nil {
			t.Fatalf("%s: not a protobuf: %v", p, err)
		}
		// profile.proto: 1 sample_type, 6 string_table are always written.
		if !fields[1] || !fields[6] {
			t.Errorf("%s: not a pprof profile (top-level fields %v)", p, fields)
		}
	}
	for _, c := range []struct {
		path string
		code int
	}{
		{"/debug/pprof/profile?seconds=-1", http.StatusBadRequest},
		{"/debug/pprof/profile?seconds=x", http.StatusBadRequest},
		{"/debug/pprof/profile?seconds=100000", http.StatusBadRequest},
		{"/debug/pprof/nosuch", http.StatusNotFound},
	} {
		if resp, body := get(c.path); resp.StatusCode != c.code {
			t.Errorf("%s: %s %s, want %d", c.path, resp.Status, body, c.code)
		}
	}
}
