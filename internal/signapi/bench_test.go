package signapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

// BenchmarkAPI measures links per second through the handler, in process
// (httptest, no network), for one link per request and for batches of 100,
// next to cfsign signing the same canned link directly: the ratio of
// single or batch to cfsign is the API's cost. "cached" is a distribution
// with Quantum, where repeated requests are answered from the cache.
func BenchmarkAPI(b *testing.B) {
	const u = "https://media.example.com/reports/q3.pdf"
	one := `{"url": "` + u + `", "expires_in": 3600}`
	batch := `{"items": [` + strings.TrimSuffix(strings.Repeat(one+",", 100), ",") + `]}`
	cached := `{"url": "https://cached.example.com/reports/q3.pdf", "expires_in": 3600}`
	for _, kt := range []string{"p256", "rsa2048"} {
		// Info, as in production: links signed are logged at Debug.
		f := newFixture(b, fixtureOptions{rsa: kt == "rsa2048", infoLog: true})
		key := f.key.Load()
		signer, err := cfsign.NewSigner(key.ID, key.Signer, key.Hash)
		if err != nil {
			b.Fatal(err)
		}
		hash := "-" + strings.ToLower(key.Hash.String())
		b.Run(kt+hash+"/cfsign", func(b *testing.B) {
			b.ReportAllocs()
			exp := testNow.Add(time.Hour)
			for b.Loop() {
				if _, err := signer.SignCanned(u, exp); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "links/s")
		})
		for _, bc := range []struct {
			name, path, body string
			links            int
		}{
			{"single", "/v1/sign/url", one, 1},
			{"batch100", "/v1/sign/urls", batch, 100},
			{"cached", "/v1/sign/url", cached, 1},
		} {
			b.Run(kt+hash+"/"+bc.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, bc.path, strings.NewReader(bc.body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+f.token)
					rec := httptest.NewRecorder()
					f.h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("%s = %d %s", bc.path, rec.Code, rec.Body)
					}
				}
				b.ReportMetric(float64(b.N*bc.links)/b.Elapsed().Seconds(), "links/s")
			})
		}
	}
}
