package spool

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// bucketDelivered holds a mark per recipient the next hop accepted (key:
// ID, NUL, address) until the attempt's full result is committed. The mark
// is written on its own right after the next hop's 250 and before any
// other bookkeeping, so a crash re-sends only what was accepted within one
// small commit of the crash.
var bucketDelivered = []byte("delivered")

// Mark records that the next hop accepted a recipient.
type Mark struct {
	Rcpt     string    `json:"-"`
	Code     int       `json:"code"`
	Enhanced string    `json:"enhanced,omitempty"`
	Message  string    `json:"message,omitempty"`
	Remote   string    `json:"remote,omitempty"`
	At       time.Time `json:"at"`
}

func markKey(id, rcpt string) []byte {
	return append(append([]byte(id), 0), rcpt...)
}

// MarkDelivered records that the next hop accepted these recipients of
// message id, before anything else: one write(2) of a line to the delivery
// journal, which survives a crash of the process as soon as it returns
// (and a power loss once the journal's next fsync ends). The journal is
// folded into the database when the store opens and whenever it grows
// past journalLimit; the attempt's own commit clears the marks.
func (s *Store) MarkDelivered(id string, marks []Mark) error {
	if len(marks) == 0 {
		return nil
	}
	var buf []byte
	for _, m := range marks {
		line, err := json.Marshal(journalEntry{ID: id, Rcpt: m.Rcpt, Mark: m})
		if err != nil {
			return fmt.Errorf("encode delivery mark: %w", err)
		}
		buf = append(append(buf, line...), '\n')
	}
	return s.journal.append(buf, s.foldJournal)
}

// Delivered returns the marks of message id not yet folded into its record.
func (s *Store) Delivered(id string) ([]Mark, error) {
	var marks []Mark
	err := s.db.View(func(tx *bbolt.Tx) error {
		prefix := markKey(id, "")
		c := tx.Bucket(bucketDelivered).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var m Mark
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("decode delivery mark of %s: %w", id, err)
			}
			m.Rcpt = string(k[len(prefix):])
			marks = append(marks, m)
		}
		return nil
	})
	return marks, err
}

// ClearDeliveredTx drops message id's marks: the transaction writes a
// record that holds their result.
func ClearDeliveredTx(tx *bbolt.Tx, id string) error {
	prefix := markKey(id, "")
	c := tx.Bucket(bucketDelivered).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// journalLimit is the size past which the delivery journal is folded into
// the database and emptied.
const journalLimit = 1 << 20

// journalEntry is one line of the delivery journal.
type journalEntry struct {
	ID   string `json:"id"`
	Rcpt string `json:"rcpt"`
	Mark
}

// journal is the append-only file of delivery marks. An append returns
// once written: a write(2) that returned survives a crash of the process.
// A background fsync follows every burst of appends, so that after a
// power loss only marks written within about one fsync are missing; the
// commit of the attempt's result makes them durable in the database too.
type journal struct {
	mu   sync.Mutex
	path string
	f    *os.File
	size int64

	kick    chan struct{} // appends not yet fsynced
	stop    chan struct{}
	stopped chan struct{}
}

func openJournal(path string) (*journal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open delivery journal: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat delivery journal: %w", err)
	}
	j := &journal{path: path, f: f, size: st.Size(),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	go j.syncer()
	return j, nil
}

// syncer fsyncs the journal after appends; appends that arrive during an
// fsync share the next one.
func (j *journal) syncer() {
	defer close(j.stopped)
	for {
		select {
		case <-j.stop:
			return
		case <-j.kick:
			// An error here only widens the power-loss window; the
			// attempt's commit still records the result.
			j.f.Sync()
		}
	}
}

// append writes buf in one write; past journalLimit, fold moves what the
// file holds into the database and the file is emptied. Appends wait
// meanwhile, so nothing written after the fold is lost by the truncation.
func (j *journal) append(buf []byte, fold func([]journalEntry) error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return ErrClosed
	}
	n, err := j.f.Write(buf)
	j.size += int64(n)
	if err != nil {
		return fmt.Errorf("write delivery journal: %w", err)
	}
	select {
	case j.kick <- struct{}{}:
	default:
	}
	if j.size < journalLimit {
		return nil
	}
	return j.foldLocked(fold)
}

func (j *journal) foldLocked(fold func([]journalEntry) error) error {
	entries, err := readJournal(j.path)
	if err != nil {
		return err
	}
	if err := fold(entries); err != nil {
		return fmt.Errorf("fold delivery journal: %w", err)
	}
	if err := j.f.Truncate(0); err != nil {
		return fmt.Errorf("truncate delivery journal: %w", err)
	}
	j.size = 0
	return nil
}

func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	close(j.stop)
	<-j.stopped
	err := j.f.Close()
	j.f = nil
	return err
}

// readJournal parses the journal's complete lines; a torn last line (a
// crash mid-write, which no caller saw succeed) and undecodable lines
// (garbage after a power loss) are skipped.
func readJournal(path string) ([]journalEntry, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open delivery journal: %w", err)
	}
	defer f.Close()
	var out []journalEntry
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			break // EOF, possibly after a torn line
		}
		var e journalEntry
		if json.Unmarshal(line, &e) == nil && e.ID != "" && e.Rcpt != "" {
			out = append(out, e)
		}
	}
	return out, nil
}

// foldJournal turns journal entries into marks in the database, for
// recipients still pending on unfinished messages (an entry whose result
// was already committed is dropped).
func (s *Store) foldJournal(entries []journalEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.commit(false, func(tx *bbolt.Tx) error { return foldTx(tx, entries) })
}

func foldTx(tx *bbolt.Tx, entries []journalEntry) error {
	b := tx.Bucket(bucketDelivered)
	for _, e := range entries {
		v := tx.Bucket(bucketMsgs).Get([]byte(e.ID))
		if v == nil {
			continue
		}
		// Most entries are of finished messages: their state alone
		// drops them. Otherwise only the recipients' status is decoded,
		// not the rest of the record (report, decision).
		if p, ok := peekIndexed(v); ok && p.State.Final() {
			continue
		}
		var rec rcptView
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode record %s: %w", e.ID, err)
		}
		if rec.State.Final() || !rec.pending(e.Rcpt) {
			continue
		}
		v, err := json.Marshal(e.Mark)
		if err != nil {
			return err
		}
		if err := b.Put(markKey(e.ID, e.Rcpt), v); err != nil {
			return err
		}
	}
	return nil
}

// replayJournal folds what a previous process journaled into the database
// and empties the journal, before any delivery starts.
func (s *Store) replayJournal(path string) error {
	entries, err := readJournal(path)
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		if err := s.db.Update(func(tx *bbolt.Tx) error { return foldTx(tx, entries) }); err != nil {
			return fmt.Errorf("fold delivery journal: %w", err)
		}
		s.log.Info("recovered deliveries accepted before a crash", "count", len(entries))
	}
	if err := os.Truncate(path, 0); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("truncate delivery journal: %w", err)
	}
	return nil
}

// rcptView is a record's state and its recipients' status.
type rcptView struct {
	State State `json:"state"`
	Rcpts []struct {
		Addr   string     `json:"addr"`
		Status RcptStatus `json:"status"`
	} `json:"rcpts"`
}

// pending reports whether addr is a recipient still to be delivered.
func (r *rcptView) pending(addr string) bool {
	for _, rc := range r.Rcpts {
		if rc.Addr == addr && rc.Status == RcptPending {
			return true
		}
	}
	return false
}
