package spool

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// A mark written before a crash is found after restart; a torn last line
// and a mark whose result was already committed are ignored.
func TestDeliveryMarksSurviveCrash(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	id := spoolOne(t, s, StateQueued, time.Now())
	done := spoolOne(t, s, StateQueued, time.Now())
	if err := s.Update(id, func(_ *bbolt.Tx, rec *Record) error {
		rec.Rcpts = append(rec.Rcpts, Rcpt{Addr: "c@ext.test", Status: RcptPending})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Truncate(time.Second)
	if err := s.MarkDelivered(id, []Mark{{Rcpt: "b@ext.test", Code: 250, Enhanced: "2.0.0", Message: "ok", Remote: "mx", At: at}}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(done, []Mark{{Rcpt: "b@ext.test", Code: 250}}); err != nil {
		t.Fatal(err)
	}
	// The second message's result was committed before the crash.
	if err := s.Update(done, func(_ *bbolt.Tx, rec *Record) error {
		rec.Rcpts[0].Status, rec.State = RcptDelivered, StateDelivered
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Close does not fold the journal: reopening is what a restart after
	// kill -9 sees, plus a line torn by the crash.
	s.Close()
	jpath := filepath.Join(dir, "delivered.journal")
	f, err := os.OpenFile(jpath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"id":"` + id + `","rcpt":"c@ext.te`)
	f.Close()

	s = openTest(t, dir)
	defer s.Close()
	marks, err := s.Delivered(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(marks) != 1 || marks[0].Rcpt != "b@ext.test" || marks[0].Code != 250 || marks[0].Message != "ok" ||
		marks[0].Remote != "mx" || !marks[0].At.Equal(at) {
		t.Fatalf("marks after restart = %+v", marks)
	}
	if m, _ := s.Delivered(done); len(m) != 0 {
		t.Fatalf("mark kept for a finished message: %+v", m)
	}
	if st, err := os.Stat(jpath); err != nil || st.Size() != 0 {
		t.Fatalf("journal not emptied after replay: %v %v", st, err)
	}
	// The commit that records the result clears the marks.
	if err := s.Update(id, func(tx *bbolt.Tx, rec *Record) error { return ClearDeliveredTx(tx, id) }); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Delivered(id); len(m) != 0 {
		t.Fatalf("marks left after clearing: %+v", m)
	}
}

// Past journalLimit the journal is folded into the database and emptied
// while it is in use; a purge drops the marks with their record.
func TestDeliveryJournalFolds(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	id := spoolOne(t, s, StateQueued, time.Now())
	jpath := filepath.Join(dir, "delivered.journal")
	var last int64
	folded := false
	for i := 0; i < 2*journalLimit/100 && !folded; i++ {
		if err := s.MarkDelivered(id, []Mark{{Rcpt: "b@ext.test", Code: 250, Message: "2.0.0 queued as 0123456789"}}); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(jpath)
		if err != nil {
			t.Fatal(err)
		}
		folded = st.Size() < last
		last = st.Size()
	}
	if !folded {
		t.Fatalf("journal never folded (size %d)", last)
	}
	if m, _ := s.Delivered(id); len(m) != 1 {
		t.Fatalf("marks after fold = %+v", m)
	}
	if err := s.Commit(func(tx *bbolt.Tx) error { return DeleteTx(tx, id) }); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Delivered(id); len(m) != 0 {
		t.Fatalf("marks outlived their record: %+v", m)
	}
}
