package edge_test

import (
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cache"
	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/edgetest"
)

// TestXCache runs Decide over a real cache.Cache: X-Cache and Plan.XCache
// say what the cache did, the origin is asked only on a miss, and each
// behavior reads through the cache's view with its own TTLs.
func TestXCache(t *testing.T) {
	rec := newRecorder()
	rec.put("a.txt", "hello, cache")
	c, err := cache.New(rec, cache.Config{Name: "d", MemoryBytes: 1 << 20, ChunkSize: 4 << 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	hour := c.WithTTL(cache.TTL{Default: time.Hour, Max: time.Hour})
	keys := edgetest.NewKeys(t)
	e := mustNew(t, edge.Config{Now: func() time.Time { return edgetest.Now }, Distributions: []edge.Distribution{
		{Name: "d", Origin: c, EdgeCached: true, Behaviors: []edge.Behavior{
			{PathPattern: "/private/*", Verifier: keys.Verifier, Origin: hour},
			{PathPattern: "/always/*", Origin: c.WithTTL(cache.TTL{})}, // revalidates every Stat
			{PathPattern: "*", Origin: hour},
		}},
		{Name: "plain", Hosts: []string{"plain.example"}, Origin: rec, Behaviors: []edge.Behavior{{PathPattern: "*"}}},
	}})
	rec.put("always/b.txt", "revalidated")

	for _, tc := range []struct {
		name, method, target string
		hdr                  []string
		status               int
		xcache               string // "" means no header
		originAsked          int    // Stats reaching the origin
		body                 string
	}{
		{"first GET", "GET", "/a.txt", nil, 200, "Miss", 1, "hello, cache"},
		{"second GET", "GET", "/a.txt", nil, 200, "Hit", 0, "hello, cache"},
		{"HEAD", "HEAD", "/a.txt", nil, 200, "Hit", 0, ""},
		{"range", "GET", "/a.txt", []string{"Range", "bytes=7-11"}, 206, "Hit", 0, "cache"},
		{"missing", "GET", "/nope.txt", nil, 404, "Error", 1, "Not Found\n"},
		{"unsigned", "GET", "/private/a.txt", nil, 403, "Error", 0, ""},
		{"behavior max_ttl 0, first", "GET", "/always/b.txt", nil, 200, "Miss", 1, "revalidated"},
		{"behavior max_ttl 0, again", "GET", "/always/b.txt", nil, 200, "RefreshHit", 1, "revalidated"},
		{"no cache", "GET", "/a.txt", []string{"Host", "plain.example"}, 200, "", 1, "hello, cache"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rec.Asked())
			p := decide(t, e, tc.method, tc.target, tc.hdr...)
			var b strings.Builder
			if _, err := p.WriteBody(t.Context(), &b); err != nil {
				t.Fatalf("WriteBody: %v", err)
			}
			want := ""
			if tc.xcache != "" {
				want = tc.xcache + " from signet"
			}
			if p.Status != tc.status || p.Header.Get("X-Cache") != want || p.XCache != tc.xcache {
				t.Errorf("status %d, X-Cache %q, Plan.XCache %q; want %d, %q, %q", p.Status, p.Header.Get("X-Cache"), p.XCache, tc.status, want, tc.xcache)
			}
			if n := len(rec.Asked()) - before; n != tc.originAsked {
				t.Errorf("origin asked %d times; want %d", n, tc.originAsked)
			}
			if tc.body != "" && !strings.HasPrefix(b.String(), tc.body) {
				t.Errorf("body %q; want %q", b.String(), tc.body)
			}
		})
	}
}
