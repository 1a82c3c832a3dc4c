package web

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sendguard/sendguard/hold"
)

// BenchmarkConfirmPage renders the confirm page in-process: token lookup
// in bbolt (one View per role tried), report decode, summary, template.
// BenchmarkStaticAsset serves the CSS through the same handler and is the
// baseline for the ratio.
func BenchmarkConfirmPage(b *testing.B) {
	h, tok := benchHandler(b)
	benchGet(b, h, "/h/"+tok)
}

func BenchmarkStaticAsset(b *testing.B) {
	h, _ := benchHandler(b)
	benchGet(b, h, "/static/style.css")
}

func benchHandler(b *testing.B) (http.Handler, string) {
	e := newEnv(b, func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) })
	id := e.holdMsg("m1", hold.KindSender, sampleReport(), "lookalike")
	return e.h, e.token(id, hold.RoleSender, time.Hour)
}

func benchGet(b *testing.B, h http.Handler, path string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
