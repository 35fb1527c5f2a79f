package cache_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cache"
	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/origintest"
)

// clockStart is where the tests' clocks start.
var clockStart = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// newCache builds a Cache over o and closes it when the test ends.
func newCache(t testing.TB, o origin.Origin, cfg cache.Config) *cache.Cache {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	if cfg.MemoryBytes == 0 {
		cfg.MemoryBytes = 64 << 20
	}
	c, err := cache.New(o, cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// mustStat is Stat that fails the test on error.
func mustStat(t testing.TB, o origin.Origin, key string) origin.Info {
	t.Helper()
	info, err := o.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%q): %v", key, err)
	}
	return info
}

// mustRead reads info's range through o and fails the test unless it is
// want.
func mustRead(t testing.TB, ctx context.Context, o origin.Origin, info origin.Info, off, n int64, want []byte) {
	t.Helper()
	got, err := origintest.Read(ctx, o, info, off, n)
	if err != nil {
		t.Fatalf("Open(%q, %d, %d): %v", info.Key, off, n, err)
	}
	if string(got) != string(want) {
		t.Fatalf("Open(%q, %d, %d) read %d bytes that differ from the %d expected", info.Key, off, n, len(got), len(want))
	}
}

// outcomeOf runs f with a Recorder in its context and returns the outcome.
func outcomeOf(t testing.TB, f func(ctx context.Context)) (origin.Outcome, bool) {
	var rec origin.Recorder
	f(origin.WithRecorder(t.Context(), &rec))
	return rec.Outcome(), rec.Stale()
}

// getOrigin is an in-memory origin that is also an origin.Getter: Get
// counts in gets, and its own Stat and Open in Stats and Opens.
type getOrigin struct {
	*origintest.Mem
	gets atomic.Int64
}

func (o *getOrigin) Get(ctx context.Context, key string, n int64) (origin.Info, io.ReadCloser, error) {
	o.gets.Add(1)
	info, err := o.Mem.Stat(ctx, key)
	if err != nil {
		return origin.Info{}, nil, err
	}
	rc, err := o.Mem.Open(ctx, info, 0, min(n, info.Size))
	return info, rc, err
}

// putCaching stores data under key with the origin's Cache-Control cc.
func putCaching(o *origintest.Mem, key string, data []byte, cc string) {
	o.PutInfo(origin.Info{Key: key, ModTime: origintest.MemModTime, ETag: `"cc"`, CacheControl: cc}, data)
}
