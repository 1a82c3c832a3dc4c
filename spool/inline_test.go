package spool

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// An inline body commits with its record, is read back after a restart,
// leaves no spool file, and goes with the record's final state.
func TestInlineBody(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	body := []byte("Subject: pw\r\n\r\nsecret\r\n")
	id := NewID()
	rec := &Record{ID: id, Kind: KindNotice, State: StateQueued, Size: int64(len(body)), Inline: body,
		Rcpts: []Rcpt{{Addr: "a@example.com", Status: RcptPending}}, NextAttempt: time.Now()}
	if err := s.Accept(rec, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.BodyPath(id)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("inline notice has a spool file: %v", err)
	}
	s.Close()
	s = openTest(t, dir) // reconcile keeps it
	defer s.Close()
	got, err := s.Get(id)
	if err != nil || !got.InlineBody || got.Inline != nil {
		t.Fatalf("record after restart: %+v %v", got, err)
	}
	read := func() ([]byte, error) {
		rc, err := s.OpenDeliverable(&Record{ID: id, InlineBody: true})
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	if b, err := read(); err != nil || !bytes.Equal(b, body) {
		t.Fatalf("inline body = %q, %v", b, err)
	}
	// A later rewrite of the record (an attempt's result) keeps the body.
	if err := s.Update(id, func(tx *bbolt.Tx, r *Record) error { r.Attempts++; return nil }); err != nil {
		t.Fatal(err)
	}
	if b, err := read(); err != nil || !bytes.Equal(b, body) {
		t.Fatalf("after update: %q, %v", b, err)
	}
	// Final: the bytes (a password) are gone with the state change.
	if err := s.Update(id, func(tx *bbolt.Tx, r *Record) error { r.State = StateDelivered; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := read(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("final record still has its body: %v", err)
	}
	expectNoInline(t, s, "after the final state")
}

// DeleteTx removes an inline body with its record.
func TestInlineBodyDelete(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	id := NewID()
	rec := &Record{ID: id, Kind: KindNotice, State: StateHeld, Inline: []byte("x")}
	if err := s.Accept(rec, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(func(tx *bbolt.Tx) error { return DeleteTx(tx, id) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InlineBody(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("inline body after delete: %v", err)
	}
}

// A derived copy within its bound stays in memory and is delivered from
// the record (no file); the body as received stays the file. One over the
// bound becomes the file from its first byte, and Abort removes it.
func TestDerivedInline(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	id := NewID()
	bw, err := s.Create(id)
	if err != nil {
		t.Fatal(err)
	}
	bw.Write([]byte("Subject: original\r\n\r\nbody\r\n"))
	if _, err := bw.Commit(); err != nil {
		t.Fatal(err)
	}
	enc := bytes.Repeat([]byte("zip bytes "), 100)
	dw := s.CreateDerivedInline(id, "enc", 2000)
	for i := 0; i < len(enc); i += 77 {
		dw.Write(enc[i:min(i+77, len(enc))])
	}
	_, err = dw.Commit()
	inline := dw.Inline()
	if err != nil || !bytes.Equal(inline, enc) {
		t.Fatalf("inline copy %d bytes, %v", len(inline), err)
	}
	if _, err := os.Stat(s.BodyPath(id) + ".enc"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("inline copy has a file: %v", err)
	}
	rec := &Record{ID: id, Kind: KindMail, State: StateQueued, BodySuffix: "enc", InlineCopy: inline, InlineSuffix: "enc",
		Rcpts: []Rcpt{{Addr: "a@example.com", Status: RcptPending}}, NextAttempt: time.Now()}
	if err := s.Accept(rec, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, dir) // reconcile keeps the body file
	defer s.Close()
	got, err := s.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	read := func(r *Record) []byte {
		rc, err := s.OpenDeliverable(r)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return b
	}
	if b := read(got); !bytes.Equal(b, enc) {
		t.Fatalf("delivered %q, want the inline copy", b)
	}
	// A record pointed at another copy (or the body) reads that file.
	orig := *got
	orig.BodySuffix = ""
	if b := read(&orig); string(b) != "Subject: original\r\n\r\nbody\r\n" {
		t.Fatalf("body as received: %q", b)
	}

	big := s.CreateDerivedInline(id, "enc2", 100)
	big.Write(enc[:60])
	big.Write(enc[60:])
	if _, err := big.Commit(); err != nil || big.Inline() != nil {
		t.Fatalf("copy over the bound: inline %d bytes, %v", len(big.Inline()), err)
	}
	if b, err := os.ReadFile(s.BodyPath(id) + ".enc2"); err != nil || !bytes.Equal(b, enc) {
		t.Fatalf("spilled file: %d bytes, %v", len(b), err)
	}
	ab := s.CreateDerivedInline(id, "enc3", 100)
	ab.Write(enc)
	ab.Abort()
	if _, err := os.Stat(s.BodyPath(id) + ".enc3"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("aborted copy left a file: %v", err)
	}
}

// A received message that fits in MaxInline stays in memory: readable
// before its acceptance, committed inline without a file, read back after
// a restart. A larger one spills to its file.
func TestCreateMessage(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	readBody := func(id string) ([]byte, error) {
		b, err := s.OpenBody(id)
		if err != nil {
			return nil, err
		}
		defer b.Close()
		return io.ReadAll(b)
	}
	small := bytes.Repeat([]byte("a"), MaxInline)
	id := NewID()
	bw, err := s.CreateMessage(id)
	if err != nil {
		t.Fatal(err)
	}
	bw.Write(small[:100])
	bw.Write(small[100:])
	sum, err := bw.Commit()
	if err != nil || bw.Inline() == nil || bw.Size() != MaxInline {
		t.Fatalf("commit: %v, inline %v, size %d", err, bw.Inline() != nil, bw.Size())
	}
	if _, err := os.Stat(s.BodyPath(id)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a small message has a spool file: %v", err)
	}
	if b, err := readBody(id); err != nil || !bytes.Equal(b, small) {
		t.Fatalf("before acceptance: %d bytes, %v", len(b), err)
	}
	rec := &Record{ID: id, Kind: KindMail, State: StateHeld, Size: bw.Size(), SHA256: sum, Inline: bw.Inline()}
	if err := s.AcceptInline(rec, nil); err != nil {
		t.Fatal(err)
	}
	if s.pendingBody(id) != nil {
		t.Error("the accepted body is still kept in memory")
	}
	s.Close()
	s = openTest(t, dir)
	defer func() { s.Close() }()
	if b, err := readBody(id); err != nil || !bytes.Equal(b, small) {
		t.Fatalf("after restart: %d bytes, %v", len(b), err)
	}

	// One byte more goes to the file.
	big := append(small, 'b')
	id2 := NewID()
	bw, err = s.CreateMessage(id2)
	if err != nil {
		t.Fatal(err)
	}
	bw.Write(big[:10])
	bw.Write(big[10:])
	if _, err := bw.Commit(); err != nil || bw.Inline() != nil {
		t.Fatalf("commit: %v, inline %v", err, bw.Inline() != nil)
	}
	if got, err := os.ReadFile(s.BodyPath(id2)); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("spilled file: %d bytes, %v", len(got), err)
	}
	if err := s.AcceptInline(&Record{ID: id2, Kind: KindMail, State: StateQueued}, nil); err == nil {
		t.Error("AcceptInline took a record without an inline body")
	}

	// Refused or aborted: nothing is left, in memory or on disk.
	id3 := NewID()
	bw, _ = s.CreateMessage(id3)
	bw.Write([]byte("x"))
	bw.Commit()
	s.RemoveBody(id3)
	if _, err := readBody(id3); !errors.Is(err, ErrNotFound) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("removed message still readable: %v", err)
	}
	id4 := NewID()
	bw, _ = s.CreateMessage(id4)
	bw.Write([]byte("x"))
	bw.Abort()
	if _, err := readBody(id4); !errors.Is(err, ErrNotFound) {
		t.Fatalf("aborted message readable: %v", err)
	}
}

// A message kept inline may also keep its encrypted copy inline: each
// under its own key, the body for OpenBody, the copy for delivery, both
// gone with the final state.
func TestInlineBodyAndCopy(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	id := NewID()
	bw, err := s.CreateMessage(id)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("Subject: original\r\n\r\nbody\r\n")
	bw.Write(body)
	if _, err := bw.Commit(); err != nil || bw.Inline() == nil {
		t.Fatalf("commit: %v, inline %v", err, bw.Inline() != nil)
	}
	enc := []byte("Subject: original\r\n\r\nzip\r\n")
	rec := &Record{ID: id, Kind: KindMail, State: StateQueued, Inline: bw.Inline(), BodySuffix: "enc-inline",
		InlineSuffix: "enc-inline", InlineCopy: enc, Rcpts: []Rcpt{{Addr: "a@example.com", Status: RcptPending}}}
	if err := s.AcceptInline(rec, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	read := func(open func() (io.ReadCloser, error)) []byte {
		rc, err := open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return b
	}
	if b := read(func() (io.ReadCloser, error) { return s.OpenBody(id) }); !bytes.Equal(b, body) {
		t.Fatalf("OpenBody: %q", b)
	}
	if b := read(func() (io.ReadCloser, error) { return s.OpenDeliverable(got) }); !bytes.Equal(b, enc) {
		t.Fatalf("OpenDeliverable: %q", b)
	}
	if err := s.Update(id, func(tx *bbolt.Tx, r *Record) error { r.State = StateDelivered; return nil }); err != nil {
		t.Fatal(err)
	}
	expectNoInline(t, s, "after the final state")
}

// RemoveFinished removes what RemoveBody does: a body file unless the
// body was inline, and every derived copy either way.
func TestRemoveFinished(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	derived := func(id string) string {
		bw, err := s.CreateDerived(id, "enc")
		if err != nil {
			t.Fatal(err)
		}
		bw.Write([]byte("copy"))
		if _, err := bw.Commit(); err != nil {
			t.Fatal(err)
		}
		return s.BodyPath(id) + ".enc"
	}
	gone := func(path string) {
		t.Helper()
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left: %v", path, err)
		}
	}
	inline := NewID()
	copyPath := derived(inline)
	if err := s.RemoveFinished(&Record{ID: inline, InlineBody: true}); err != nil {
		t.Fatal(err)
	}
	gone(copyPath)

	id := NewID()
	bw, err := s.Create(id)
	if err != nil {
		t.Fatal(err)
	}
	bw.Write([]byte("Subject: x\r\n\r\nbody\r\n"))
	if _, err := bw.Commit(); err != nil {
		t.Fatal(err)
	}
	copyPath = derived(id)
	if err := s.RemoveFinished(&Record{ID: id}); err != nil {
		t.Fatal(err)
	}
	gone(s.BodyPath(id))
	gone(copyPath)
}
