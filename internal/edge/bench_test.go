package edge_test

import (
	"crypto"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cache"
	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/edgetest"
)

// BenchmarkDecide measures one decision and its body write for a 1 KiB
// object: public, and behind a canned signed URL (P-256, SHA-256), checked
// every time or, once verified, found in the verifier's link cache; and
// public through an edge cache that holds it (X-Cache: Hit).
func BenchmarkDecide(b *testing.B) {
	keys := edgetest.NewKeys(b)
	rec := newRecorder()
	rec.put("pub/a.txt", strings.Repeat("x", 1024))
	rec.put("private/a.txt", strings.Repeat("x", 1024))
	rec.put("cached/a.txt", strings.Repeat("x", 1024))
	cached, err := cfsign.NewVerifier(map[string]crypto.PublicKey{keys.Trusted.KeyID(): keys.Trusted.Public()},
		cfsign.Options{Now: func() time.Time { return edgetest.Now }, CacheSize: 100})
	if err != nil {
		b.Fatal(err)
	}
	e := mustNew(b, edge.Config{Now: func() time.Time { return edgetest.Now }, Distributions: oneDist(rec,
		edge.Behavior{PathPattern: "/private/*", Verifier: keys.Verifier},
		edge.Behavior{PathPattern: "/cached/*", Verifier: cached},
		edge.Behavior{PathPattern: "*"},
	)})
	c, err := cache.New(rec, cache.Config{Name: "c", MemoryBytes: 1 << 20}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	withCache := mustNew(b, edge.Config{Now: func() time.Time { return edgetest.Now }, Distributions: []edge.Distribution{
		{Name: "c", Origin: c, EdgeCached: true, Behaviors: []edge.Behavior{
			{PathPattern: "*", Origin: c.WithTTL(cache.TTL{Default: time.Hour, Max: time.Hour})},
		}},
	}})
	signed, err := keys.Trusted.SignCanned("http://example.com/private/a.txt", edgetest.Now.Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	signedCached, err := keys.Trusted.SignCanned("http://example.com/cached/a.txt", edgetest.Now.Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name, target string
		e            *edge.Edge
	}{
		{"public", "/pub/a.txt", e},
		{"signed-p256", strings.TrimPrefix(signed, "http://example.com"), e},
		{"signed-p256-verified-link-cache", strings.TrimPrefix(signedCached, "http://example.com"), e},
		{"public-edge-cache-hit", "/pub/a.txt", withCache},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			req := &edge.Request{Method: "GET", Scheme: "http", Host: "example.com", Target: bc.target}
			for b.Loop() {
				p := bc.e.Decide(b.Context(), req)
				if p.Status != 200 {
					b.Fatalf("status %d: %v", p.Status, p.Reason)
				}
				if _, err := p.WriteBody(b.Context(), io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
