package cache_test

import (
	"io"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cache"
	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/origintest"
)

// BenchmarkHit measures the hit path of one request as the edge makes it:
// a Recorder in the context, Stat, Open, copy the body, Close. From memory
// for a small and a large object; from disk when the memory tier holds
// nothing (each read checks the file's checksum).
func BenchmarkHit(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
		disk bool
	}{
		{"memory/1KiB", 1 << 10, false},
		{"memory/1MiB", 1 << 20, false},
		{"disk/1KiB", 1 << 10, true},
		{"disk/1MiB", 1 << 20, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			o := origintest.NewMem()
			o.Put("a.bin", origintest.Content(bc.name, bc.size))
			cfg := cache.Config{TTL: cache.TTL{Default: time.Hour, Max: time.Hour}}
			if bc.disk {
				cfg.MemoryBytes, cfg.DiskDir, cfg.DiskBytes = 1, b.TempDir(), 64<<20
			}
			c := newCache(b, o, cfg)
			info := mustStat(b, c, "a.bin")
			if _, err := origintest.Read(b.Context(), c, info, 0, -1); err != nil {
				b.Fatal(err)
			}
			settle(b, c)
			opens := o.Opens.Load()
			b.SetBytes(int64(bc.size))
			b.ReportAllocs()
			for b.Loop() {
				var rec origin.Recorder
				ctx := origin.WithRecorder(b.Context(), &rec)
				info, err := c.Stat(ctx, "a.bin")
				if err != nil {
					b.Fatal(err)
				}
				rc, err := c.Open(ctx, info, 0, -1)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, rc); err != nil {
					b.Fatal(err)
				}
				rc.Close()
				if rec.Outcome() != origin.Hit {
					b.Fatalf("outcome %v; want Hit", rec.Outcome())
				}
			}
			if o.Opens.Load() != opens {
				b.Fatalf("origin Opens went from %d to %d during the benchmark; want none", opens, o.Opens.Load())
			}
		})
	}
}
