package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/sendguard/sendguard/gateway/adminapi"
	"github.com/sendguard/sendguard/rules"
	"github.com/sendguard/sendguard/rules/policy"
)

// policyBaseline: `sendguard policy baseline ADDRESS` shows what the
// running gateway's baseline says of a sender now, as the policy's
// sender.* helpers would see it for a message sent at this moment.
func policyBaseline(c *command, args []string) error {
	cfgPath := c.configFlag()
	asJSON := c.fs.Bool("json", false, "print the baseline as JSON")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		c.printUsage(os.Stderr)
		return usageError("policy baseline takes one sender address")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	body, err := adminClient(filepath.Join(cfg.DataDir, adminapi.AdminSocket)).do("GET", "/v1/policy/baseline?sender="+url.QueryEscape(pos[0]))
	if err != nil {
		return err
	}
	var b rules.SenderBehaviour
	if err := json.Unmarshal(body, &b); err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(b)
	}
	printBaseline(os.Stdout, pos[0], &b)
	return nil
}

func printBaseline(w io.Writer, sender string, b *rules.SenderBehaviour) {
	state := "learning: the sender.* signals flag nothing yet"
	if b.Established {
		state = "established"
	}
	fmt.Fprintf(w, "%s: %d messages on %d days with mail (%s)\n", sender, b.Messages, b.Days, state)
	if b.Messages == 0 {
		return
	}
	fmt.Fprintf(w, "hour %02d:00: %.1f%% of past messages within an hour of it (unusual below %.0f%%)\n",
		b.Hour, b.HourShare*100, policy.UnusualHourShare*100)
	fmt.Fprintf(w, "this hour: %d messages; usual %.1f per hour with mail\n", b.HourMessages, b.PerHour)
	fmt.Fprintf(w, "today: %d external recipients (usual %.1f), %s of attachments to the outside (usual %s)\n",
		b.DayExternal, b.PerDayExternal, mib(float64(b.DayAttachmentBytes)), mib(b.PerDayAttachmentBytes))
	fmt.Fprintf(w, "messages with an attachment to the outside so far: %d\n", b.ExternalAttachments)
}

func mib(n float64) string { return fmt.Sprintf("%.1f MiB", n/(1<<20)) }

// Baseliner answers the baseline handler (baseline.Tracker).
type Baseliner interface {
	Lookup(ctx context.Context, sender string, at time.Time) *rules.SenderBehaviour
}

// baselineHandler serves GET /v1/policy/baseline?sender=ADDR on the admin
// socket.
func baselineHandler(b Baseliner) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		sender := r.URL.Query().Get("sender")
		if sender == "" || len(sender) > 320 {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "sender: one address"})
			return
		}
		bh := b.Lookup(r.Context(), sender, time.Now())
		if bh == nil {
			w.WriteHeader(http.StatusInternalServerError)
			json.NewEncoder(w).Encode(map[string]string{"error": "the baseline store did not answer"})
			return
		}
		json.NewEncoder(w).Encode(bh)
	})
}
