package server

import (
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cache"
	"github.com/signet-dev/signet/internal/config"
	"github.com/signet-dev/signet/internal/edge/edgetest"
	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/origintest"
)

// TestNewBehavior: a behavior reads through the view of its distribution's
// edge cache with its own TTLs, is given the presigner of redirect mode,
// and TTLs the cache cannot use are refused.
func TestNewBehavior(t *testing.T) {
	mem := origintest.NewMem()
	mem.Put("a.txt", []byte("a"))
	c, err := cache.New(mem, cache.Config{Name: "d", MemoryBytes: 1 << 20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	presigner := edgetest.Presigner{Origin: mem}
	cfg := &config.Config{}
	hour := config.CacheTTL{Default: config.Duration(time.Hour), Max: config.Duration(time.Hour)}

	b, err := newBehavior(config.Behavior{Path: "*", Public: true, Cache: hour}, nil, cfg, nil, reads{presigner: presigner})
	if err != nil || b.Origin != nil || b.Presigner != presigner {
		t.Errorf("without an edge cache: Origin %v, Presigner %v, %v; want nil, the presigner, no error", b.Origin, b.Presigner, err)
	}

	b, err = newBehavior(config.Behavior{Path: "*", Public: true, Cache: hour}, nil, cfg, nil, reads{edgeCache: c})
	if err != nil || b.Origin == nil {
		t.Fatalf("with an edge cache: Origin %v, %v; want the cache's view", b.Origin, err)
	}
	for range 2 {
		if _, err := b.Origin.Stat(t.Context(), "a.txt"); err != nil {
			t.Fatal(err)
		}
	}
	if got := mem.Stats.Load(); got != 1 {
		t.Errorf("origin Stats after two through a view with an hour's TTL = %d; want 1", got)
	}
	var rec origin.Recorder
	if _, err := b.Origin.Stat(origin.WithRecorder(t.Context(), &rec), "a.txt"); err != nil || rec.Outcome() != origin.Hit {
		t.Errorf("Stat through the view: outcome %v, %v; want Hit", rec.Outcome(), err)
	}

	bad := config.CacheTTL{Default: config.Duration(time.Hour), Max: config.Duration(time.Minute)}
	if _, err := newBehavior(config.Behavior{Path: "*", Public: true, Cache: bad}, nil, cfg, nil, reads{edgeCache: c}); err == nil {
		t.Errorf("default_ttl over max_ttl: no error; want one")
	}
}
