package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Outbox is the demo transport: with no delivery.next_hop configured,
// "delivered" mail is written under data_dir/outbox (ID.eml plus ID.json
// with the envelope) so a newcomer can see the whole flow on one machine.
// It is never used when a next hop is configured.
type Outbox struct {
	Dir string
}

// OutboxEnvelope is the JSON written next to each outbox message.
type OutboxEnvelope struct {
	QueueID   string    `json:"queue_id"`
	MailFrom  string    `json:"mail_from"`
	Rcpts     []string  `json:"rcpts"`
	Delivered time.Time `json:"delivered"`
}

// Deliver writes the message and its envelope durably.
func (o *Outbox) Deliver(ctx context.Context, d *Delivery) []Result {
	fail := func(err error) []Result {
		out := make([]Result, len(d.Rcpts))
		for i, r := range d.Rcpts {
			out[i] = Result{Rcpt: r.Addr, Temporary: true, Code: 451, Enhanced: "4.3.0", Message: "outbox: " + err.Error()}
		}
		return out
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fail(err)
	}
	name := fmt.Sprintf("%s-%s", time.Now().UTC().Format("20060102T150405.000"), d.QueueID)
	body, err := d.Body()
	if err != nil {
		return fail(err)
	}
	defer body.Close()
	if err := writeFileSync(filepath.Join(o.Dir, name+".eml"), body); err != nil {
		return fail(err)
	}
	env := OutboxEnvelope{QueueID: d.QueueID, MailFrom: d.MailFrom, Delivered: time.Now().UTC()}
	for _, r := range d.Rcpts {
		env.Rcpts = append(env.Rcpts, r.Addr)
	}
	js, _ := json.MarshalIndent(env, "", "  ")
	if err := os.WriteFile(filepath.Join(o.Dir, name+".json"), js, 0o600); err != nil {
		return fail(err)
	}
	out := make([]Result, len(d.Rcpts))
	for i, r := range d.Rcpts {
		out[i] = Result{Rcpt: r.Addr, Delivered: true, Code: 250, Enhanced: "2.0.0", Message: "saved to demo outbox", Remote: "outbox"}
	}
	return out
}

func writeFileSync(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
