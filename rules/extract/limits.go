package extract

import "time"

// Limits bound the work done on one message. Zero fields take the value
// from DefaultLimits.
type Limits struct {
	// MaxDepth is the deepest container nesting read: a top-level
	// attachment has depth 0, a file inside it depth 1, and so on.
	MaxDepth int
	// MaxEntries caps the MIME parts plus archive entries visited.
	MaxEntries int
	// MaxInflated caps the bytes decompressed from archives (zip, OOXML)
	// over the whole message.
	MaxInflated int64
	// MaxRatio is the largest accepted uncompressed/compressed ratio of one
	// archive entry.
	MaxRatio int64
	// MaxPartText caps the UTF-8 text yielded for one part; longer text is
	// cut and Part.Truncated set.
	MaxPartText int64
	// MaxMemory is how much of one attachment is held in memory when a
	// format needs random access; beyond it the bytes go to a temporary
	// file in TempDir.
	MaxMemory int64
	// MaxMemoryTotal is how much all walks in the process hold in memory
	// that way at once; an attachment that would take more goes to a
	// temporary file too, however small.
	MaxMemoryTotal int64
	// MaxAttachment is the largest attachment (or archive entry) buffered
	// for random access; larger ones are unscannable.
	MaxAttachment int64
	// MaxFallback is the largest message re-read by the tolerant parser
	// (enmime) after go-message stops at a broken MIME structure. That
	// parser holds the message in memory; for a reader that cannot seek,
	// the first MaxFallback bytes are kept while walking.
	MaxFallback int64
	// Timeout bounds the whole walk.
	Timeout time.Duration
	// PDFTimeout is the wall-clock budget of one PDF's text extraction,
	// counted from the worker's start (sandbox.go); the worker is killed
	// when it passes.
	PDFTimeout time.Duration
	// PDFCPU is the CPU budget of one PDF's extraction worker
	// (RLIMIT_CPU, whole seconds, rounded up).
	PDFCPU time.Duration
	// PDFMemory is the address space one PDF's extraction worker may add
	// to its start-up size (RLIMIT_AS).
	PDFMemory int64
	// Sandbox caps concurrent extraction workers; nil shares one
	// process-wide Sandbox of runtime.NumCPU() workers.
	Sandbox *Sandbox
	// TempDir is where large attachments are spilled ("" = os.TempDir()).
	TempDir string
}

// DefaultLimits returns limits suited to a gateway that accepts messages of
// a few tens of megabytes.
func DefaultLimits() Limits {
	return Limits{
		MaxDepth:       5,
		MaxEntries:     2000,
		MaxInflated:    512 << 20,
		MaxRatio:       100,
		MaxPartText:    8 << 20,
		MaxMemory:      16 << 20,
		MaxMemoryTotal: 64 << 20,
		MaxAttachment:  128 << 20,
		MaxFallback:    8 << 20,
		Timeout:        60 * time.Second,
		PDFTimeout:     15 * time.Second,
		PDFCPU:         10 * time.Second,
		PDFMemory:      1 << 30,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxInflated <= 0 {
		l.MaxInflated = d.MaxInflated
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.MaxPartText <= 0 {
		l.MaxPartText = d.MaxPartText
	}
	if l.MaxMemory <= 0 {
		l.MaxMemory = d.MaxMemory
	}
	if l.MaxMemoryTotal <= 0 {
		l.MaxMemoryTotal = d.MaxMemoryTotal
	}
	if l.MaxAttachment <= 0 {
		l.MaxAttachment = d.MaxAttachment
	}
	if l.MaxFallback <= 0 {
		l.MaxFallback = d.MaxFallback
	}
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	if l.PDFTimeout <= 0 {
		l.PDFTimeout = d.PDFTimeout
	}
	if l.PDFCPU <= 0 {
		l.PDFCPU = d.PDFCPU
	}
	if l.PDFMemory <= 0 {
		l.PDFMemory = d.PDFMemory
	}
	return l
}

func (l Limits) sandbox() *Sandbox {
	if l.Sandbox != nil {
		return l.Sandbox
	}
	return defaultSandbox()
}
