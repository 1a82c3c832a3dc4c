package aeszip

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/klauspost/compress/flate"
)

// Encryption selects how entries are encrypted.
type Encryption int

const (
	// AES256 is WinZip AES-256, AE-2 (the default). 7-Zip, WinZip, WinRAR,
	// Bandizip, libarchive and macOS Archive Utility open it; Windows
	// Explorer's built-in zip folders do not.
	AES256 Encryption = iota
	// ZipCrypto is the traditional PKWARE stream cipher. It is WEAK: a known
	// plaintext of about 12 bytes recovers the keys in minutes, and the
	// archive structure supplies such plaintext. It exists only because
	// Windows Explorer opens it without extra tools; choose it explicitly and
	// knowingly. NewWriter logs a warning when it is selected.
	ZipCrypto
)

func (e Encryption) String() string {
	switch e {
	case AES256:
		return "aes256"
	case ZipCrypto:
		return "zipcrypto"
	}
	return fmt.Sprintf("Encryption(%d)", int(e))
}

// NameEncoding selects how entry names are stored.
type NameEncoding int

const (
	// UTF8 stores names in UTF-8 with general-purpose bit 11 set (the
	// default): right for 7-Zip, WinRAR, Bandizip, macOS and Windows 10/11.
	UTF8 NameEncoding = iota
	// CP932 stores names in Windows-31J with bit 11 clear, plus the Info-ZIP
	// Unicode Path extra field (0x7075) carrying the UTF-8 name, for old
	// Japanese Windows Explorer. A name that CP932 cannot encode (for
	// example U+301C WAVE DASH) is stored as in UTF8 mode.
	CP932
)

func (n NameEncoding) String() string {
	switch n {
	case UTF8:
		return "utf8"
	case CP932:
		return "cp932"
	}
	return fmt.Sprintf("NameEncoding(%d)", int(n))
}

// Options configures a Writer. The zero value plus a Password is a valid,
// recommended configuration.
type Options struct {
	// Password protects every entry. Required; printable ASCII only, because
	// archivers disagree on how they encode other characters.
	Password string
	// Encryption defaults to AES256.
	Encryption Encryption
	// Names defaults to UTF8.
	Names NameEncoding
	// Level is the deflate level (github.com/klauspost/compress/flate,
	// whose streams any inflater reads: same levels as compress/flate, about
	// twice its speed at a size within a few percent); 0 means 5.
	Level int
	// TempDir holds the per-entry temporary file; "" means os.TempDir().
	TempDir string
	// Logger receives the ZipCrypto warning; nil means no logging.
	Logger *slog.Logger
}

const defaultLevel = 5

// Errors returned for invalid options.
var (
	ErrNoPassword      = errors.New("aeszip: password is empty")
	ErrPasswordCharset = errors.New("aeszip: password must be printable ASCII")
)

func (o Options) validate() error {
	if o.Password == "" {
		return ErrNoPassword
	}
	for i := 0; i < len(o.Password); i++ {
		if c := o.Password[i]; c < 0x20 || c > 0x7e {
			return ErrPasswordCharset
		}
	}
	switch o.Encryption {
	case AES256, ZipCrypto:
	default:
		return fmt.Errorf("aeszip: unknown encryption %d", int(o.Encryption))
	}
	switch o.Names {
	case UTF8, CP932:
	default:
		return fmt.Errorf("aeszip: unknown name encoding %d", int(o.Names))
	}
	if o.Level != 0 && (o.Level < flate.HuffmanOnly || o.Level > flate.BestCompression) {
		return fmt.Errorf("aeszip: invalid deflate level %d", o.Level)
	}
	return nil
}

func (o Options) level() int {
	if o.Level == 0 {
		return defaultLevel
	}
	return o.Level
}

// String describes the options without the password.
func (o Options) String() string {
	return fmt.Sprintf("aeszip.Options{Password:[REDACTED] Encryption:%s Names:%s Level:%d}",
		o.Encryption, o.Names, o.Level)
}

// GoString keeps %#v from printing the password.
func (o Options) GoString() string { return o.String() }

// LogValue keeps slog from printing the password.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("encryption", o.Encryption.String()),
		slog.String("names", o.Names.String()),
		slog.Int("level", o.Level),
	)
}
