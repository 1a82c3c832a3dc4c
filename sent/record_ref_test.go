package sent

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/emersion/go-message"

	"github.com/sendguard/sendguard/internal/bufpool"
)

// refHashAttachments is hashAttachments as it was before base64 parts
// were decoded in bulk: go-message's Entity.Walk and its decoders. The
// equivalence test and fuzz target hold the current walk to its results.
func refHashAttachments(r io.Reader) ([]Attachment, string, error) {
	e, err := message.Read(r)
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, "", fmt.Errorf("read message: %w", err)
	}
	date := e.Header.Get("Date")
	out := []Attachment{}
	err = e.Walk(func(path []int, p *message.Entity, err error) error {
		if err != nil || len(out) >= maxHashedParts {
			return nil // a broken part is skipped, the walk goes on
		}
		name := fileName(p.Header)
		if name == "" {
			return nil
		}
		ct, _, _ := p.Header.ContentType()
		h := sha256.New()
		n, err := bufpool.Copy(h, p.Body)
		if err != nil {
			return nil
		}
		out = append(out, Attachment{Name: name, Type: ct, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
		return nil
	})
	return out, date, err
}
