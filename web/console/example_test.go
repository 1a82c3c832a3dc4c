package console_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/sendguard/sendguard/hold"
	"github.com/sendguard/sendguard/rules/inspect"
	"github.com/sendguard/sendguard/rules/policy"
	"github.com/sendguard/sendguard/spool"
	"github.com/sendguard/sendguard/web/console"
)

// Example wires the console as the gateway does: the spool's DB, the hold
// store, the active policy and an inspector for the policy page's test
// form, mounted under /console/ of the web listener.
func Example() {
	dir, _ := os.MkdirTemp("", "console-example")
	defer os.RemoveAll(dir)
	sp, err := spool.Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sp.Close()
	hs, _ := hold.New(sp.DB(), hold.Options{})
	pol, _ := policy.Default()
	insp, _ := inspect.New(inspect.Config{InternalDomains: []string{"example.com"}, Policy: pol})
	h, err := console.New(console.Config{
		Hold: hs, Spool: sp, DB: sp.DB(), BaseURL: "https://sendguard.example.com/",
		Policy: pol.Rules(), InternalDomains: []string{"example.com"},
		Test: func(ctx context.Context, r io.Reader) (*inspect.Result, error) {
			return insp.Inspect(ctx, r, inspect.Envelope{})
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// sendguard user add: the URL goes to the user's authenticator app.
	totpURL, err := h.Users().AddUser("sato", console.RoleReviewer, "a long passphrase here")
	fmt.Println(err == nil && len(totpURL) > 0)
	mux := http.NewServeMux()
	mux.Handle(h.Prefix(), h)
	fmt.Println(h.Prefix())
	// Output:
	// true
	// /console/
}
