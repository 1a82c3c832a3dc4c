package reports

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxRecord bounds one record read from a stream.
const maxRecord = 1 << 20

// RawSource is what the stream handler reads: any store that keeps the
// Marshal encodings in time order (Bolt; a PostgreSQL store the same way).
type RawSource interface {
	ScanRaw(ctx context.Context, since time.Time, fn func(raw []byte) error) error
}

// Handler serves GET ?since=RFC3339 on the admin socket: the stored
// reports as a stream of records, each an unsigned varint length and a
// Marshal encoding. Records go out as stored: the reader decodes them.
func Handler(s RawSource) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var since time.Time
		if v := r.URL.Query().Get("since"); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				http.Error(w, "since: want an RFC 3339 time", http.StatusBadRequest)
				return
			}
			since = t
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		bw := bufio.NewWriterSize(w, 64<<10)
		var lenBuf [binary.MaxVarintLen64]byte
		err := s.ScanRaw(r.Context(), since, func(raw []byte) error {
			n := binary.PutUvarint(lenBuf[:], uint64(len(raw)))
			bw.Write(lenBuf[:n])
			_, err := bw.Write(raw)
			return err
		})
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			// The status is sent: a broken stream is what the reader
			// sees (a truncated record).
			panic(http.ErrAbortHandler)
		}
	})
}

// ReadStream decodes a stream written by Handler, calling fn with each
// report. It returns how many records did not decode.
func ReadStream(r io.Reader, fn func(*Report) error) (corrupt int, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	for {
		n, err := binary.ReadUvarint(br)
		if errors.Is(err, io.EOF) {
			return corrupt, nil
		}
		if err != nil {
			return corrupt, fmt.Errorf("read report stream: %w", err)
		}
		if n > maxRecord {
			return corrupt, fmt.Errorf("read report stream: %w: record of %d bytes", ErrCorrupt, n)
		}
		if uint64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return corrupt, fmt.Errorf("read report stream: %w", err)
		}
		rep, err := Unmarshal(buf)
		if err != nil {
			corrupt++
			continue
		}
		if err := fn(rep); err != nil {
			return corrupt, err
		}
	}
}
