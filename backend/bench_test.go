package backend

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkRequestPath measures what Middleware adds to a request of a
// logged-in session: the Ended lookup and the Reporter's queueing, with
// no call to presence. Compare it with the bare handler in the same run.
func BenchmarkRequestPath(b *testing.B) {
	client, err := NewClient(ClientOptions{BaseURL: "http://127.0.0.1:1", APIKey: apiKey})
	if err != nil {
		b.Fatal(err)
	}
	reporter, err := NewReporter(ReporterOptions{Client: client, FlushEvery: 1 << 62, Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		reporter.Close(ctx) // presence is not there: what is queued stays
	}()
	guarded := Middleware(MiddlewareOptions{SessionID: sidHeader, Ended: NewEnded(EndedOptions{}), Reporter: reporter})(okHandler)
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", okHandler}, {"middleware", guarded}} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/account", nil)
			req.Header.Set("X-Test-SID", "p1-0123456789abcdef")
			b.ReportAllocs()
			for b.Loop() {
				c.h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
