package smtp

// The fork's DATA reader, line limit reader and DATA writer work on runs of
// bytes. These tests compare them with the per-byte code they replace (the
// upstream v0.25.1 readers, copied below, and net/textproto's DotWriter
// itself) on the same input, chunked arbitrarily on both sides: the bytes,
// the counts and errors of every call, what is left in the buffer, and the
// calls the underlying reader or writer sees must all be the same.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// refDataReader is upstream v0.25.1's dataReader.Read, byte by byte.
type refDataReader struct {
	r     *bufio.Reader
	state int

	limited bool
	n       int64
}

func (r *refDataReader) Read(b []byte) (n int, err error) {
	if r.limited {
		if r.n <= 0 {
			return 0, ErrDataTooLarge
		}
		if int64(len(b)) > r.n {
			b = b[0:r.n]
		}
	}
	const (
		stateBeginLine = iota
		stateDot
		stateDotCR
		stateCR
		stateData
		stateEOF
	)
	for n < len(b) && r.state != stateEOF {
		var c byte
		c, err = r.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			break
		}
		switch r.state {
		case stateBeginLine:
			if c == '.' {
				r.state = stateDot
				continue
			}
			if c == '\r' {
				r.state = stateCR
				break
			}
			r.state = stateData
		case stateDot:
			if c == '\r' {
				r.state = stateDotCR
				continue
			}
			r.state = stateData
		case stateDotCR:
			if c == '\n' {
				r.state = stateEOF
				continue
			}
			r.state = stateData
		case stateCR:
			if c == '\n' {
				r.state = stateBeginLine
				break
			}
			r.state = stateData
		case stateData:
			if c == '\r' {
				r.state = stateCR
			}
		}
		b[n] = c
		n++
	}
	if err == nil && r.state == stateEOF {
		err = io.EOF
	}
	if r.limited {
		r.n -= int64(n)
	}
	return
}

// refLineLimitReader is upstream v0.25.1's lineLimitReader, byte by byte.
type refLineLimitReader struct {
	R             io.Reader
	LineLimit     int
	curLineLength int
}

func (r *refLineLimitReader) Read(b []byte) (int, error) {
	if r.curLineLength > r.LineLimit && r.LineLimit > 0 {
		return 0, ErrTooLongLine
	}
	n, err := r.R.Read(b)
	if err != nil {
		return n, err
	}
	if r.LineLimit == 0 {
		return n, nil
	}
	for _, chr := range b[:n] {
		if chr == '\n' {
			r.curLineLength = 0
		}
		r.curLineLength++
		if r.curLineLength > r.LineLimit {
			return 0, ErrTooLongLine
		}
	}
	return n, nil
}

var errScript = errors.New("scripted read/write error")

// scriptReader hands out data in chunks of the sizes given (cycled; a size
// of 0 returns (0, nil), at most twice in a row so that readers looping on
// it end), fails once with errScript when it reaches errAt,
// returns io.EOF with the last chunk if eofWithData, and logs every call.
type scriptReader struct {
	data        []byte
	sizes       []int
	errAt       int
	eofWithData bool

	pos, k int
	zeros  int
	failed bool
	log    []string
}

func (s *scriptReader) Read(p []byte) (int, error) {
	n, err := s.read(p)
	s.log = append(s.log, fmt.Sprintf("%d:%d:%v", len(p), n, err))
	return n, err
}

func (s *scriptReader) read(p []byte) (int, error) {
	if !s.failed && s.errAt >= 0 && s.pos >= s.errAt {
		s.failed = true
		return 0, errScript
	}
	if s.pos >= len(s.data) {
		return 0, io.EOF
	}
	size := 4096
	if len(s.sizes) > 0 {
		size = s.sizes[s.k%len(s.sizes)]
		s.k++
	}
	if size == 0 {
		if s.zeros++; s.zeros > 2 {
			size, s.zeros = 1, 0
		}
	} else {
		s.zeros = 0
	}
	if size > len(p) {
		size = len(p)
	}
	if end := len(s.data) - s.pos; size > end {
		size = end
	}
	if !s.failed && s.errAt >= 0 && s.pos+size > s.errAt {
		size = s.errAt - s.pos
	}
	n := copy(p, s.data[s.pos:s.pos+size])
	s.pos += n
	if s.eofWithData && s.pos == len(s.data) {
		return n, io.EOF
	}
	return n, nil
}

// chunkSizes turns fuzz bytes into chunk sizes: 0 stays 0 only for one byte
// value in 16, so empty reads occur without stalling every read.
func chunkSizes(b []byte, def int) []int {
	if len(b) == 0 {
		return []int{def}
	}
	out := make([]int, len(b))
	for i, c := range b {
		if c%16 == 0 {
			out[i] = 0
		} else {
			out[i] = int(c)
		}
	}
	return out
}

func sameErr(a, b error) bool { return a == b }

// dataReaderCase runs the reference and the fork over the same script and
// returns a description of the first difference, or "".
func dataReaderCase(data []byte, under []int, bufSize int, reads []int, limit int64, errAt int, eofWithData bool) string {
	type reader interface{ Read([]byte) (int, error) }
	run := func(fork bool) (transcript []string, sr *scriptReader, rest []byte, restErr error) {
		sr = &scriptReader{data: data, sizes: under, errAt: errAt, eofWithData: eofWithData}
		br := bufio.NewReaderSize(sr, bufSize)
		var r reader
		var setUnlimited func()
		if fork {
			d := &dataReader{r: br, limited: limit > 0, n: limit}
			r, setUnlimited = d, func() { d.limited = false }
		} else {
			d := &refDataReader{r: br, limited: limit > 0, n: limit}
			r, setUnlimited = d, func() { d.limited = false }
		}
		errs := 0
		for call := 0; call < 2*len(data)+64 && errs < 4; call++ {
			size := reads[call%len(reads)]
			buf := make([]byte, size)
			n, err := r.Read(buf)
			transcript = append(transcript, fmt.Sprintf("%d %q %v", n, buf[:n], err))
			if err != nil {
				errs++
			}
			if err == ErrDataTooLarge {
				setUnlimited() // as the server does to drain the rest
			}
		}
		rest, restErr = io.ReadAll(br)
		return
	}
	t1, s1, rest1, e1 := run(false)
	t2, s2, rest2, e2 := run(true)
	for i := range t1 {
		if i >= len(t2) || t1[i] != t2[i] {
			got := "(none)"
			if i < len(t2) {
				got = t2[i]
			}
			return fmt.Sprintf("read %d: upstream %s, fork %s", i, t1[i], got)
		}
	}
	if len(t2) != len(t1) {
		return fmt.Sprintf("%d reads upstream, %d fork", len(t1), len(t2))
	}
	if !bytes.Equal(rest1, rest2) || !sameErr(e1, e2) {
		return fmt.Sprintf("left in the buffer: upstream %q %v, fork %q %v", rest1, e1, rest2, e2)
	}
	if strings.Join(s1.log, " ") != strings.Join(s2.log, " ") {
		return fmt.Sprintf("underlying reads differ:\nupstream %v\nfork     %v", s1.log, s2.log)
	}
	return ""
}

func lineLimitCase(data []byte, under []int, limit int, reads []int, errAt int) string {
	type rd interface{ Read([]byte) (int, error) }
	run := func(fork bool) (transcript []string) {
		sr := &scriptReader{data: data, sizes: under, errAt: errAt}
		var r rd
		var cur func() int
		if fork {
			l := &lineLimitReader{R: sr, LineLimit: limit}
			r, cur = l, func() int { return l.curLineLength }
		} else {
			l := &refLineLimitReader{R: sr, LineLimit: limit}
			r, cur = l, func() int { return l.curLineLength }
		}
		errs := 0
		for call := 0; call < 2*len(data)+64 && errs < 4; call++ {
			buf := make([]byte, reads[call%len(reads)])
			n, err := r.Read(buf)
			transcript = append(transcript, fmt.Sprintf("%d %q %v cur=%d", n, buf, err, cur()))
			if err != nil {
				errs++
			}
		}
		return append(transcript, strings.Join(sr.log, " "))
	}
	t1, t2 := run(false), run(true)
	for i := range t1 {
		if t1[i] != t2[i] {
			return fmt.Sprintf("read %d: upstream %s, fork %s", i, t1[i], t2[i])
		}
	}
	return ""
}

// scriptWriter takes at most max bytes per call (0: all), fails with
// errScript once it has taken failAt bytes (-1: never), and logs the calls.
type scriptWriter struct {
	max, failAt int
	got         bytes.Buffer
	log         []string
}

func (s *scriptWriter) Write(p []byte) (int, error) {
	n, err := len(p), error(nil)
	if s.max > 0 && n > s.max {
		n, err = s.max, io.ErrShortWrite
	}
	if s.failAt >= 0 && s.got.Len()+n > s.failAt {
		n, err = s.failAt-s.got.Len(), errScript
	}
	s.got.Write(p[:n])
	s.log = append(s.log, fmt.Sprintf("%d:%d:%v", len(p), n, err))
	return n, err
}

func dotWriterCase(data []byte, writes []int, bufSize, max, failAt int) string {
	run := func(fork bool) (transcript []string, sw *scriptWriter) {
		sw = &scriptWriter{max: max, failAt: failAt}
		bw := bufio.NewWriterSize(sw, bufSize)
		var w io.WriteCloser
		if fork {
			w = &dotWriter{w: bw}
		} else {
			w = textproto.NewWriter(bw).DotWriter()
		}
		p := data
		for call := 0; len(p) > 0 || call == 0; call++ {
			size := writes[call%len(writes)]
			if size > len(p) {
				size = len(p)
			}
			n, err := w.Write(p[:size])
			transcript = append(transcript, fmt.Sprintf("%d/%d %v", n, size, err))
			p = p[size:] // a caller that goes on after an error sees it again
		}
		transcript = append(transcript, fmt.Sprintf("close %v", w.Close()))
		return
	}
	t1, s1 := run(false)
	t2, s2 := run(true)
	for i := range t1 {
		if i >= len(t2) || t1[i] != t2[i] {
			return fmt.Sprintf("call %d: textproto %v, fork %v", i, t1, t2)
		}
	}
	if !bytes.Equal(s1.got.Bytes(), s2.got.Bytes()) {
		return fmt.Sprintf("output: textproto %q, fork %q", s1.got.Bytes(), s2.got.Bytes())
	}
	if strings.Join(s1.log, " ") != strings.Join(s2.log, " ") {
		return fmt.Sprintf("underlying writes differ:\ntextproto %v\nfork      %v", s1.log, s2.log)
	}
	return ""
}

// tricky inputs: every state of both state machines, followed by each byte
// that matters.
var trickyInputs = []string{
	"", ".", ".\r", ".\r\n", "\r\n.\r\n", "a\r\n.\r\n", "a\r\n.\r\nleft over",
	"..\r\n.\r\n", ".a\r\n.\r\n", ".\n.\r\n", ".\r.\r\n", ".\r\r\n.\r\n", "\r\r\n.\r\n",
	"\r\n\r\n.\r\n", "a\nb\n.\n", "a\n.\r\n", "a\r\n.\n\r\n.\r\n", "a\r", "a\r\r", "a\r\r\n",
	"\n", "\n\n", "\r", "\r\r", ".\r\n.\r\n", "x\r\n..\r\n...\r\n.\r\n", "line\rmore\r\n.\r\n",
	strings.Repeat("a", 5000) + "\r\n.\r\n", strings.Repeat("a\r\n", 2000) + ".\r\n",
	strings.Repeat(".\r\n", 10), strings.Repeat("\r", 9) + "\n.\r\n",
}

// randomInput draws from the bytes the state machines care about.
func randomInput(rng *rand.Rand, n int) []byte {
	const alphabet = "..\r\r\n\naZ"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.Intn(len(alphabet))]
	}
	return b
}

func randomSizes(rng *rand.Rand, max int) []int {
	s := make([]int, 1+rng.Intn(5))
	for i := range s {
		s[i] = rng.Intn(max + 1)
	}
	if rng.Intn(3) == 0 {
		s[0] = max * 64 // large reads and writes too
	}
	return s
}

func ensureNonZero(s []int) []int {
	for _, v := range s {
		if v > 0 {
			return s
		}
	}
	return append(s, 1)
}

func TestDataReaderSameAsUpstream(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	inputs := append([]string(nil), trickyInputs...)
	for i := 0; i < 300; i++ {
		inputs = append(inputs, string(randomInput(rng, rng.Intn(300))))
	}
	for _, in := range inputs {
		for k := 0; k < 20; k++ {
			under := randomSizes(rng, 20)
			reads := randomSizes(rng, 20)
			bufSize := 16 + rng.Intn(40)
			limit := int64(0)
			if rng.Intn(3) == 0 {
				limit = int64(rng.Intn(len(in) + 2))
			}
			errAt := -1
			if rng.Intn(3) == 0 {
				errAt = rng.Intn(len(in) + 1)
			}
			if d := dataReaderCase([]byte(in), under, bufSize, reads, limit, errAt, rng.Intn(2) == 0); d != "" {
				t.Fatalf("input %q, underlying %v, buffer %d, reads %v, limit %d, error at %d:\n%s", in, under, bufSize, reads, limit, errAt, d)
			}
		}
	}
}

func TestLineLimitReaderSameAsUpstream(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	inputs := append([]string(nil), trickyInputs...)
	for i := 0; i < 300; i++ {
		inputs = append(inputs, string(randomInput(rng, rng.Intn(300))))
	}
	for _, in := range inputs {
		for _, limit := range []int{-2, -1, 0, 1, 2, 3, 5, 8, 40, 1000, 2000} {
			under := randomSizes(rng, 30)
			reads := ensureNonZero(randomSizes(rng, 30))
			errAt := -1
			if rng.Intn(3) == 0 {
				errAt = rng.Intn(len(in) + 1)
			}
			if d := lineLimitCase([]byte(in), under, limit, reads, errAt); d != "" {
				t.Fatalf("input %q, limit %d, underlying %v, reads %v, error at %d:\n%s", in, limit, under, reads, errAt, d)
			}
		}
	}
}

func TestDotWriterSameAsTextproto(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	inputs := append([]string(nil), trickyInputs...)
	for i := 0; i < 300; i++ {
		inputs = append(inputs, string(randomInput(rng, rng.Intn(300))))
	}
	for _, in := range inputs {
		for k := 0; k < 20; k++ {
			writes := ensureNonZero(randomSizes(rng, 20))
			bufSize := 16 + rng.Intn(40)
			max, failAt := 0, -1
			if rng.Intn(3) == 0 {
				max = 1 + rng.Intn(20)
			}
			if rng.Intn(3) == 0 {
				failAt = rng.Intn(len(in) + 8)
			}
			if d := dotWriterCase([]byte(in), writes, bufSize, max, failAt); d != "" {
				t.Fatalf("input %q, writes %v, buffer %d, max %d, fail at %d:\n%s", in, writes, bufSize, max, failAt, d)
			}
		}
	}
}

// The client's data writer is closed by the next command, as textproto's
// DotWriter was: a DATA the caller left open still ends with ".\r\n"
// before the next command.
func TestClientDataClosedByNextCommand(t *testing.T) {
	server := "220 hello\r\n" + "250 ok\r\n" + "354 go\r\n" + "250 queued\r\n"
	var wrote bytes.Buffer
	c := NewClient(faker{ReadWriter: struct {
		io.Reader
		io.Writer
	}{strings.NewReader(server), &wrote}})
	if err := c.Hello("localhost"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "Subject: x\n\n.dot")
	if _, _, err := c.cmd(250, "RSET"); err != nil {
		t.Fatal(err)
	}
	want := "EHLO localhost\r\nDATA\r\nSubject: x\r\n\r\n..dot\r\n.\r\nRSET\r\n"
	if wrote.String() != want {
		t.Fatalf("wrote %q, want %q", wrote.String(), want)
	}
	if c.dot != nil {
		t.Fatal("data writer still pending after the next command")
	}
}

// The fuzz targets take the input and the chunkings from the fuzzer.

func FuzzDataReader(f *testing.F) {
	for i, in := range trickyInputs {
		f.Add([]byte(in), []byte{byte(1 + i%7), 3}, uint8(i), []byte{byte(i % 9), 5}, int16(i%5-1), int16(i%4*3-1), i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, data, under []byte, bufSize uint8, reads []byte, limit, errAt int16, eofWithData bool) {
		if len(data) > 1<<14 {
			return
		}
		readSizes := make([]int, 0, len(reads)+1)
		for _, r := range reads {
			readSizes = append(readSizes, int(r))
		}
		if len(readSizes) == 0 {
			readSizes = append(readSizes, 4096)
		}
		if d := dataReaderCase(data, chunkSizes(under, 4096), 16+int(bufSize), readSizes, int64(limit), int(errAt), eofWithData); d != "" {
			t.Fatal(d)
		}
	})
}

func FuzzLineLimitReader(f *testing.F) {
	for i, in := range trickyInputs {
		f.Add([]byte(in), []byte{byte(1 + i%7), 3}, int16(i%9-2), []byte{byte(1 + i%9), 5}, int16(i%4*3-1))
	}
	f.Fuzz(func(t *testing.T, data, under []byte, limit int16, reads []byte, errAt int16) {
		if len(data) > 1<<14 {
			return
		}
		var readSizes []int
		for _, r := range reads {
			readSizes = append(readSizes, int(r))
		}
		readSizes = ensureNonZero(readSizes)
		if d := lineLimitCase(data, chunkSizes(under, 4096), int(limit), readSizes, int(errAt)); d != "" {
			t.Fatal(d)
		}
	})
}

func FuzzDotWriter(f *testing.F) {
	for i, in := range trickyInputs {
		f.Add([]byte(in), []byte{byte(1 + i%7), 3}, uint8(i), uint8(i%3), int16(i%4*5-1))
	}
	f.Fuzz(func(t *testing.T, data, writes []byte, bufSize, max uint8, failAt int16) {
		if len(data) > 1<<14 {
			return
		}
		var writeSizes []int
		for _, w := range writes {
			writeSizes = append(writeSizes, int(w))
		}
		writeSizes = ensureNonZero(writeSizes)
		if d := dotWriterCase(data, writeSizes, 16+int(bufSize), int(max), int(failAt)); d != "" {
			t.Fatal(d)
		}
	})
}

// base64Body is a mail body as large attachments make it: 76-column base64
// lines ending in CRLF.
func base64Body(size int) []byte {
	raw := make([]byte, size*3/4)
	rand.New(rand.NewSource(4)).Read(raw)
	enc := base64.StdEncoding.EncodeToString(raw)
	var b bytes.Buffer
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
	b.WriteString("\r\n")
	return b.Bytes()
}

// The benchmarks run upstream's code and the fork's alternately in every
// iteration and report both throughputs and their ratio from the same run.
func benchAB(b *testing.B, size int64, upstream, fork func()) {
	var tu, tf time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		upstream()
		t1 := time.Now()
		fork()
		t2 := time.Now()
		tu += t1.Sub(t0)
		tf += t2.Sub(t1)
	}
	mb := float64(size) * float64(b.N) / 1e6
	b.ReportMetric(mb/tu.Seconds(), "upstream-MB/s")
	b.ReportMetric(mb/tf.Seconds(), "fork-MB/s")
	b.ReportMetric(tu.Seconds()/tf.Seconds(), "speedup")
}

func BenchmarkDataReaderAB(b *testing.B) {
	body := base64Body(1 << 20)
	wire := append(append([]byte(nil), body...), ".\r\n"...)
	buf := make([]byte, 32<<10)
	drain := func(r io.Reader) {
		for {
			if _, err := r.Read(buf); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				return
			}
		}
	}
	br := bufio.NewReader(nil)
	benchAB(b, int64(len(body)), func() {
		br.Reset(bytes.NewReader(wire))
		drain(&refDataReader{r: br})
	}, func() {
		br.Reset(bytes.NewReader(wire))
		drain(&dataReader{r: br})
	})
}

func BenchmarkLineLimitReaderAB(b *testing.B) {
	body := base64Body(1 << 20)
	buf := make([]byte, 4096) // what the server's bufio.Reader asks for
	drain := func(r io.Reader) {
		for {
			if _, err := r.Read(buf); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				return
			}
		}
	}
	benchAB(b, int64(len(body)), func() {
		drain(&refLineLimitReader{R: bytes.NewReader(body), LineLimit: 2000})
	}, func() {
		drain(&lineLimitReader{R: bytes.NewReader(body), LineLimit: 2000})
	})
}

func BenchmarkDotWriterAB(b *testing.B) {
	body := base64Body(1 << 20)
	bw := bufio.NewWriter(io.Discard)
	write := func(w io.WriteCloser) {
		// io.Copy's 32 KiB chunks
		for p := body; len(p) > 0; {
			n := 32 << 10
			if n > len(p) {
				n = len(p)
			}
			if _, err := w.Write(p[:n]); err != nil {
				b.Fatal(err)
			}
			p = p[n:]
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	benchAB(b, int64(len(body)), func() {
		write(textproto.NewWriter(bw).DotWriter())
	}, func() {
		write(&dotWriter{w: bw})
	})
}
