package cache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cache"
	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/dir"
	"github.com/signet-dev/signet/internal/origin/origintest"
	"github.com/signet-dev/signet/internal/testenv"
)

// files is the contract suite's fixture for a dir origin.
type files string

func (d files) Put(key string, data []byte) error {
	path := filepath.Join(string(d), filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func (d files) Remove(key string) error {
	return os.Remove(filepath.Join(string(d), filepath.FromSlash(key)))
}

// TestContract runs the origin contract against the cache over a dir
// origin and over the in-memory origin, with a memory tier alone, with a
// disk tier, and with a memory tier too small for most chunks, so that
// bodies come back from disk. The contract wants Stat to describe the
// current version, so the TTLs are 0: every Stat asks the origin, and the
// bodies, keyed by ETag, are still cached.
func TestContract(t *testing.T) {
	origins := []struct {
		name string
		new  func(t *testing.T) (origin.Origin, origintest.Fixture)
	}{
		{"dir", func(t *testing.T) (origin.Origin, origintest.Fixture) {
			path := t.TempDir()
			o, err := dir.New(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { o.Close() })
			return o, files(path)
		}},
		{"mem", func(t *testing.T) (origin.Origin, origintest.Fixture) {
			o := origintest.NewMem()
			return o, o
		}},
	}
	tiers := []struct {
		name       string
		memory     int64
		disk       bool
		chunkBytes int64
	}{
		{"memory", 64 << 20, false, 4 << 10},
		{"memory-and-disk", 64 << 20, true, 64 << 10},
		{"disk", 16 << 10, true, 4 << 10},
	}
	for _, og := range origins {
		for _, tier := range tiers {
			t.Run(og.name+"/"+tier.name, func(t *testing.T) {
				origintest.Run(t, func(t *testing.T) (origin.Origin, origintest.Fixture) {
					o, f := og.new(t)
					cfg := cache.Config{MemoryBytes: tier.memory, ChunkSize: tier.chunkBytes, MaxStale: time.Hour}
					if tier.disk {
						cfg.DiskDir, cfg.DiskBytes = t.TempDir(), 64<<20
					}
					return newCache(t, o, cfg), f
				})
			})
		}
	}
}

func TestNewConfigErrors(t *testing.T) {
	o := origintest.NewMem()
	tests := []struct {
		name string
		cfg  cache.Config
		want []string
	}{
		{"empty", cache.Config{}, []string{"Name", "MemoryBytes"}},
		{"disk-bytes", cache.Config{Name: "d", MemoryBytes: 1, DiskDir: t.TempDir()}, []string{"DiskBytes"}},
		{"disk-dir", cache.Config{Name: "d", MemoryBytes: 1, DiskBytes: 10}, []string{"DiskBytes: set without DiskDir"}},
		{"chunk", cache.Config{Name: "d", MemoryBytes: 1, ChunkSize: 100}, []string{"ChunkSize"}},
		{"ttl-order", cache.Config{Name: "d", MemoryBytes: 1, TTL: cache.TTL{Min: 2, Default: 1, Max: 3}}, []string{"TTL: Min"}},
		{"ttl-max", cache.Config{Name: "d", MemoryBytes: 1, TTL: cache.TTL{Default: 5, Max: 3}}, []string{"TTL: Default"}},
		{"stale", cache.Config{Name: "d", MemoryBytes: 1, MaxStale: -1}, []string{"MaxStale"}},
		{"entries", cache.Config{Name: "d", MemoryBytes: 1, MetadataEntries: -1}, []string{"MetadataEntries"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := cache.New(o, tc.cfg, nil)
			if err == nil {
				c.Close()
				t.Fatalf("New(%+v) succeeded; want an error", tc.cfg)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New(%+v) = %q; want it to mention %q", tc.cfg, err, w)
				}
			}
		})
	}
	if _, err := cache.New(nil, cache.Config{Name: "d", MemoryBytes: 1}, nil); err == nil {
		t.Errorf("New(nil origin) succeeded; want an error")
	}
}

// TestCoalesceOpen starts 100 cold reads of one object while the origin
// holds its bytes back after the first 100 KiB: every reader gets those
// first bytes before the fill can end, then all of them, from one origin
// Open.
func TestCoalesceOpen(t *testing.T) {
	for _, disk := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory", true: "disk"}[disk], func(t *testing.T) {
			const size, gateAt, readers = 600<<10 + 17, 100 << 10, 100
			o := origintest.NewMem()
			data := origintest.Content("coalesce", size)
			o.Put("big.bin", data)
			gate := make(chan struct{})
			o.Gate(gate, gateAt)
			cfg := cache.Config{ChunkSize: 128 << 10, TTL: cache.TTL{Default: time.Hour, Max: time.Hour}}
			if disk {
				cfg.DiskDir, cfg.DiskBytes = t.TempDir(), 64<<20
			}
			c := newCache(t, o, cfg)
			info := mustStat(t, c, "big.bin")

			var firstBytes, all sync.WaitGroup
			results := make([][]byte, readers)
			errs := make([]error, readers)
			firstBytes.Add(readers)
			for i := range readers {
				all.Go(func() {
					rc, err := c.Open(t.Context(), info, 0, -1)
					if err != nil {
						errs[i] = err
						firstBytes.Done()
						return
					}
					defer rc.Close()
					got := make([]byte, size+1)
					_, err = io.ReadFull(rc, got[:1000])
					firstBytes.Done()
					if err != nil {
						errs[i] = err
						return
					}
					n, err := io.ReadFull(rc, got[1000:])
					if err == io.ErrUnexpectedEOF {
						err = nil
					}
					results[i], errs[i] = got[:1000+n], err
				})
			}
			waitOrFail(t, &firstBytes, "readers to get their first bytes while the origin holds the rest back")
			if got := o.Bytes.Load(); got > gateAt {
				t.Fatalf("origin served %d bytes before the gate opened; want at most %d", got, gateAt)
			}
			close(gate)
			all.Wait()
			for i := range readers {
				if errs[i] != nil {
					t.Fatalf("reader %d: %v", i, errs[i])
				}
				if !bytes.Equal(results[i], data) {
					t.Fatalf("reader %d read %d bytes that differ from the object's %d", i, len(results[i]), len(data))
				}
			}
			if got := o.Opens.Load(); got != 1 {
				t.Errorf("origin Opens = %d; want 1", got)
			}
			if got := o.Bytes.Load(); got != size {
				t.Errorf("origin served %d bytes; want %d (the object once)", got, size)
			}
			settle(t, c)
			out, _ := outcomeOf(t, func(ctx context.Context) { mustRead(t, ctx, c, info, 0, -1, data) })
			if out != origin.Hit || o.Opens.Load() != 1 {
				t.Errorf("read after the fill: outcome %v, origin Opens %d; want Hit, 1", out, o.Opens.Load())
			}
		})
	}
}

// waitOrFail waits for wg, failing the test if that takes a minute: the
// sign of a reader blocked until a fill ends.
func waitOrFail(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("still waiting for %s after a minute", what)
	}
}

// TestCoalesceStat makes 50 concurrent Stats of one key while the origin
// holds the first Stat back: one reaches the origin. (A caller that comes
// after the answer finds it fresh in the cache, which also makes 1.)
func TestCoalesceStat(t *testing.T) {
	o := origintest.NewMem()
	o.Put("a.txt", []byte("hello"))
	gated := &gatedStat{Mem: o, entered: make(chan struct{}), release: make(chan struct{})}
	c := newCache(t, gated, cache.Config{TTL: cache.TTL{Default: time.Hour, Max: time.Hour}})
	var started, done sync.WaitGroup
	started.Add(50)
	for range 50 {
		done.Go(func() {
			started.Done()
			if _, err := c.Stat(t.Context(), "a.txt"); err != nil {
				t.Errorf("Stat: %v", err)
			}
		})
	}
	started.Wait()
	<-gated.entered
	close(gated.release)
	done.Wait()
	if got := o.Stats.Load(); got != 1 {
		t.Errorf("origin Stats = %d; want 1", got)
	}
}

// gatedStat holds each origin Stat until release is closed, and closes
// entered when the first one arrives.
type gatedStat struct {
	*origintest.Mem
	once             sync.Once
	entered, release chan struct{}
}

func (g *gatedStat) Stat(ctx context.Context, key string) (origin.Info, error) {
	g.once.Do(func() { close(g.entered) })
	select {
	case <-g.release:
	case <-ctx.Done():
		return origin.Info{}, ctx.Err()
	}
	return g.Mem.Stat(ctx, key)
}

// TestRangeMiss reads ranges of a 16 MiB object with 1 MiB chunks: each
// range fetches only the chunks it touches that are not cached, with one
// origin Open per run of missing chunks, and no chunk is fetched twice.
func TestRangeMiss(t *testing.T) {
	const mib = 1 << 20
	o := origintest.NewMem()
	data := origintest.Content("range", 16*mib)
	o.Put("video.mp4", data)
	c := newCache(t, o, cache.Config{ChunkSize: mib, TTL: cache.TTL{Default: time.Hour, Max: time.Hour}})
	info := mustStat(t, c, "video.mp4")
	steps := []struct {
		name       string
		off, n     int64
		wantOpens  int64 // origin Opens so far
		wantBytes  int64 // origin bytes so far
		wantResult origin.Outcome
	}{
		{"inside-chunk-5", 5*mib + 100, 1000, 1, mib, origin.Miss},
		{"same-chunk-again", 5*mib + 5000, 70_000, 1, mib, origin.Hit},
		{"chunks-5-to-7", 5*mib + 10, 2*mib + 10, 2, 3 * mib, origin.Miss},
		{"last-byte", 16*mib - 1, 1, 3, 4 * mib, origin.Miss},
		{"whole", 0, -1, 5, 16 * mib, origin.Miss},
		{"whole-again", 0, -1, 5, 16 * mib, origin.Hit},
	}
	for _, s := range steps {
		end := int64(len(data))
		if s.n >= 0 {
			end = s.off + s.n
		}
		out, _ := outcomeOf(t, func(ctx context.Context) { mustRead(t, ctx, c, info, s.off, s.n, data[s.off:end]) })
		settle(t, c) // a short range still fills its whole chunk
		if out != s.wantResult {
			t.Errorf("%s: outcome %v; want %v", s.name, out, s.wantResult)
		}
		if got := o.Opens.Load(); got != s.wantOpens {
			t.Errorf("%s: origin Opens = %d; want %d", s.name, got, s.wantOpens)
		}
		if got := o.Bytes.Load(); got != s.wantBytes {
			t.Errorf("%s: origin served %d bytes; want %d", s.name, got, s.wantBytes)
		}
	}
}

// TestETagChange replaces an object: the new version gets a body of its
// own, fetched from the origin, while the old version's body stays cached
// under the old ETag.
func TestETagChange(t *testing.T) {
	clk := testenv.NewClock(clockStart)
	o := origintest.NewMem()
	v1, v2 := origintest.Content("v1", 5000), origintest.Content("v2", 5000)
	o.Put("a.bin", v1)
	c := newCache(t, o, cache.Config{Now: clk.Now, TTL: cache.TTL{Default: time.Minute, Max: time.Hour}})
	old := mustStat(t, c, "a.bin")
	mustRead(t, t.Context(), c, old, 0, -1, v1)

	o.Put("a.bin", v2)
	if got := mustStat(t, c, "a.bin"); got.ETag != old.ETag {
		t.Errorf("Stat within the TTL: ETag %s; want the cached %s", got.ETag, old.ETag)
	}
	clk.Add(time.Minute)
	info := mustStat(t, c, "a.bin")
	if info.ETag == old.ETag {
		t.Fatalf("Stat after the TTL: ETag %s unchanged; want the new version's", info.ETag)
	}
	mustRead(t, t.Context(), c, info, 0, -1, v2)
	if got := o.Opens.Load(); got != 2 {
		t.Errorf("origin Opens = %d; want 2 (one per version)", got)
	}
	out, _ := outcomeOf(t, func(ctx context.Context) { mustRead(t, ctx, c, old, 0, -1, v1) })
	if out != origin.Hit || o.Opens.Load() != 2 {
		t.Errorf("reading the old version: outcome %v, origin Opens %d; want Hit from its cached body, 2", out, o.Opens.Load())
	}
}

// TestNoETag passes objects without an ETag through uncached: each Stat
// and Open reaches the origin.
func TestNoETag(t *testing.T) {
	o := origintest.NewMem()
	o.HideETags()
	data := origintest.Content("noetag", 3000)
	o.Put("a.bin", data)
	c := newCache(t, o, cache.Config{TTL: cache.TTL{Default: time.Hour, Max: time.Hour}})
	for i := range 3 {
		out, _ := outcomeOf(t, func(ctx context.Context) {
			info, err := c.Stat(ctx, "a.bin")
			if err != nil {
				t.Fatal(err)
			}
			mustRead(t, ctx, c, info, 0, -1, data)
		})
		if out != origin.Miss {
			t.Errorf("request %d: outcome %v; want Miss", i, out)
		}
	}
	if s, op := o.Stats.Load(), o.Opens.Load(); s != 3 || op != 3 {
		t.Errorf("origin Stats, Opens = %d, %d; want 3, 3", s, op)
	}
}

// TestMaxObjectBytes reads an object over Config.MaxObjectBytes from the
// origin every time, while its Info and a smaller object are cached.
func TestMaxObjectBytes(t *testing.T) {
	o := origintest.NewMem()
	big, small := origintest.Content("big", 5000), origintest.Content("small", 4096)
	o.Put("big.bin", big)
	o.Put("small.bin", small)
	c := newCache(t, o, cache.Config{MaxObjectBytes: 4096, TTL: cache.TTL{Default: time.Hour, Max: time.Hour}})
	for i := range 3 {
		out, _ := outcomeOf(t, func(ctx context.Context) {
			mustRead(t, ctx, c, mustStat(t, c, "big.bin"), 0, -1, big)
			mustRead(t, ctx, c, mustStat(t, c, "small.bin"), 0, -1, small)
		})
		if want := origin.Miss; out != want {
			t.Errorf("request %d: outcome %v; want %v (the big object's body)", i, out, want)
		}
	}
	if s, op := o.Stats.Load(), o.Opens.Load(); s != 2 || op != 4 {
		t.Errorf("origin Stats, Opens = %d, %d; want 2 (both Infos cached), 4 (big 3 times, small once)", s, op)
	}
	if _, err := cache.New(o, cache.Config{Name: "x", MemoryBytes: 1 << 20, MaxObjectBytes: -1}, nil); err == nil {
		t.Errorf("New with MaxObjectBytes -1: no error")
	}
}

// TestGetter checks that a cold miss on an origin.Getter takes one origin
// request for the Info and the first chunk, and that a revalidation, a
// HEAD-like Stat and a later Open use what it fetched.
func TestGetter(t *testing.T) {
	clk := testenv.NewClock(clockStart)
	o := &getOrigin{Mem: origintest.NewMem()}
	small, big := origintest.Content("small", 3000), origintest.Content("big", 10000)
	o.Put("small.bin", small)
	o.Put("big.bin", big)
	c := newCache(t, o, cache.Config{Now: clk.Now, ChunkSize: 4 << 10, TTL: cache.TTL{Default: time.Minute, Max: time.Hour}})
	requests := func() (gets, stats, opens int64) {
		g := o.gets.Load()
		return g, o.Stats.Load() - g, o.Opens.Load() - g // Get's own Stat and Open are one request
	}

	// A cold object of one chunk: one Get, nothing else.
	out, _ := outcomeOf(t, func(ctx context.Context) { mustRead(t, ctx, c, statCtx(t, ctx, c, "small.bin"), 0, -1, small) })
	if g, s, op := requests(); out != origin.Miss || g != 1 || s != 0 || op != 0 {
		t.Errorf("cold small: outcome %v, origin gets %d, stats %d, opens %d; want Miss, 1, 0, 0", out, g, s, op)
	}
	// A cold object of three chunks: the Get brings chunk 0, one Open
	// the other two.
	mustRead(t, t.Context(), c, mustStat(t, c, "big.bin"), 0, -1, big)
	if g, s, op := requests(); g != 2 || s != 0 || op != 1 {
		t.Errorf("cold big: origin gets %d, stats %d, opens %d; want 2, 0, 1", g, s, op)
	}
	// Cached: no origin request.
	out, _ = outcomeOf(t, func(ctx context.Context) { mustRead(t, ctx, c, statCtx(t, ctx, c, "big.bin"), 0, -1, big) })
	if g, s, op := requests(); out != origin.Hit || g != 2 || s != 0 || op != 1 {
		t.Errorf("cached big: outcome %v, origin gets %d, stats %d, opens %d; want Hit, 2, 0, 1", out, g, s, op)
	}
	// Expired but cached: a revalidation is a Stat, not a Get.
	clk.Add(2 * time.Minute)
	out, _ = outcomeOf(t, func(ctx context.Context) { mustRead(t, ctx, c, statCtx(t, ctx, c, "big.bin"), 0, -1, big) })
	if g, s, op := requests(); out != origin.RefreshHit || g != 2 || s != 1 || op != 1 {
		t.Errorf("revalidated big: outcome %v, origin gets %d, stats %d, opens %d; want RefreshHit, 2, 1, 1", out, g, s, op)
	}
	// A Stat alone (a HEAD) keeps the first chunk it brought: the Open
	// that comes later is a Hit for that chunk.
	o.Put("head.bin", small)
	info := mustStat(t, c, "head.bin")
	settle(t, c)
	out, _ = outcomeOf(t, func(ctx context.Context) { mustRead(t, ctx, c, info, 0, -1, small) })
	if g, s, op := requests(); out != origin.Hit || g != 3 || s != 1 || op != 1 {
		t.Errorf("head then get: outcome %v, origin gets %d, stats %d, opens %d; want Hit, 3, 1, 1", out, g, s, op)
	}
	// Missing: the Get's error, not cached.
	for range 2 {
		if _, err := c.Stat(t.Context(), "missing.bin"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(missing) = %v; want fs.ErrNotExist", err)
		}
	}
	if g, _, _ := requests(); g != 5 {
		t.Errorf("origin gets %d after two Stats of a missing object; want 5", g)
	}
}

// statCtx is mustStat with a context, so that its outcome is recorded.
func statCtx(t testing.TB, ctx context.Context, c *cache.Cache, key string) origin.Info {
	t.Helper()
	info, err := c.Stat(ctx, key)
	if err != nil {
		t.Fatalf("Stat(%q): %v", key, err)
	}
	return info
}

// TestErrorsNotCached checks that no failure is remembered: a missing
// object that appears, a refusal (a 403) that is lifted, and an Open that
// failed are all asked of the origin again.
func TestErrorsNotCached(t *testing.T) {
	o := origintest.NewMem()
	c := newCache(t, o, cache.Config{TTL: cache.TTL{Default: time.Hour, Max: time.Hour}, MaxStale: time.Hour})

	out, _ := outcomeOf(t, func(ctx context.Context) {
		if _, err := c.Stat(ctx, "late.txt"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(missing) = %v; want fs.ErrNotExist", err)
		}
	})
	if out != origin.Error {
		t.Errorf("Stat(missing) outcome %v; want Error", out)
	}
	o.Put("late.txt", []byte("here now"))
	mustStat(t, c, "late.txt")

	o.Put("forbidden.txt", []byte("secret"))
	o.FailStat(fs.ErrPermission)
	if _, err := c.Stat(t.Context(), "forbidden.txt"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Stat(refused) = %v; want fs.ErrPermission", err)
	}
	o.FailStat(nil)
	info := mustStat(t, c, "forbidden.txt")

	o.FailOpen(errors.New("origin: 503"))
	if _, err := origintest.Read(t.Context(), c, info, 0, -1); err == nil {
		t.Errorf("Open with a failing origin succeeded; want its error")
	}
	o.FailOpen(nil)
	mustRead(t, t.Context(), c, info, 0, -1, []byte("secret"))
	if got := o.Stats.Load(); got != 4 {
		t.Errorf("origin Stats = %d; want 4 (each failure asked again)", got)
	}
}

// TestKeyHasNoSigningParameters documents that signing parameters cannot
// reach a cache key: the Origin API takes an object key, which the edge
// takes from the request path, never the query. Links to one object with
// different signatures, expiries and key pair ids are one entry; a key
// that holds such characters is a different object, not parsed.
func TestKeyHasNoSigningParameters(t *testing.T) {
	o := origintest.NewMem()
	o.Put("videos/a.mp4", []byte("the video"))
	o.Put("videos/a.mp4?Signature=x", []byte("another object"))
	c := newCache(t, o, cache.Config{TTL: cache.TTL{Default: time.Hour, Max: time.Hour}})
	links := []string{
		"https://d.example/videos/a.mp4?Expires=2000000000&Signature=AAAA&Key-Pair-Id=K1",
		"https://d.example/videos/a.mp4?Expires=2000000001&Signature=BBBB&Key-Pair-Id=K2",
		"https://d.example/videos/a.mp4?Policy=eyJ9&Signature=CCCC&Key-Pair-Id=K1",
	}
	for i, link := range links {
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		key := strings.TrimPrefix(u.Path, "/") // all the edge hands the cache
		out, _ := outcomeOf(t, func(ctx context.Context) {
			info, err := c.Stat(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			mustRead(t, ctx, c, info, 0, -1, []byte("the video"))
		})
		if want := map[bool]origin.Outcome{true: origin.Miss, false: origin.Hit}[i == 0]; out != want {
			t.Errorf("link %d: outcome %v; want %v", i, out, want)
		}
	}
	if s, op := o.Stats.Load(), o.Opens.Load(); s != 1 || op != 1 {
		t.Errorf("origin Stats, Opens = %d, %d; want 1, 1", s, op)
	}
	info := mustStat(t, c, "videos/a.mp4?Signature=x")
	mustRead(t, t.Context(), c, info, 0, -1, []byte("another object"))
}

// TestAbandonedFill cancels, then closes, the only reader of a fill early,
// while the origin holds bytes back: the Read waiting for those bytes
// returns at the cancellation, and the fill finishes the chunk it is in, so
// a short range leaves a whole chunk cached, and fetches nothing more. The
// next reader fetches only the other chunks.
func TestAbandonedFill(t *testing.T) {
	const chunk = 256 << 10
	o := origintest.NewMem()
	data := origintest.Content("abandon", 4*chunk)
	o.Put("a.bin", data)
	gate := make(chan struct{})
	o.Gate(gate, 4096)
	c := newCache(t, o, cache.Config{ChunkSize: chunk})
	info := mustStat(t, c, "a.bin")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rc, err := c.Open(ctx, info, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rc, make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error, 1)
	go func() { // waited for below
		_, err := rc.Read(make([]byte, 1))
		waiting <- err
	}()
	cancel()
	if err := <-waiting; !errors.Is(err, context.Canceled) {
		t.Errorf("Read held by the origin, then cancelled = %v; want an error matching context.Canceled", err)
	}
	rc.Close()
	close(gate)
	settle(t, c)
	if got := o.Bytes.Load(); got != chunk {
		t.Errorf("origin served %d bytes for the abandoned fill; want %d (its first chunk)", got, chunk)
	}
	mustRead(t, t.Context(), c, info, 0, -1, data)
	if o, b := o.Opens.Load(), o.Bytes.Load(); o != 2 || b != int64(len(data)) {
		t.Errorf("origin Opens, bytes = %d, %d; want 2, %d (no byte twice)", o, b, len(data))
	}
}

// settle waits until c has no fill in progress.
func settle(t testing.TB, c *cache.Cache) {
	t.Helper()
	testenv.Wait(t, "the fills to end", func() error {
		if s := c.Stats(); s.Filling > 0 {
			return fmt.Errorf("fills in progress: %+v", s)
		}
		return nil
	})
}

// TestReadAhead checks that a fill runs at most a few chunks ahead of its
// furthest reader: a reader that stops after its first chunk lets the fill
// fetch 5 chunks of 64, one more when it moves on, and no more.
func TestReadAhead(t *testing.T) {
	const chunk = 16 << 10
	o := origintest.NewMem()
	data := origintest.Content("ahead", 64*chunk)
	o.Put("a.bin", data)
	c := newCache(t, o, cache.Config{ChunkSize: chunk})
	info := mustStat(t, c, "a.bin")
	rc, err := c.Open(t.Context(), info, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, chunk+1)
	if _, err := io.ReadFull(rc, got[:chunk]); err != nil {
		t.Fatal(err)
	}
	waitBytes(t, o, 5*chunk)
	if _, err := io.ReadFull(rc, got[chunk:]); err != nil {
		t.Fatal(err)
	}
	waitBytes(t, o, 6*chunk)
	rc.Close()
	settle(t, c)
	if !bytes.Equal(got, data[:chunk+1]) {
		t.Errorf("read %d bytes that differ from the object's", len(got))
	}
	if got := o.Bytes.Load(); got != 6*chunk {
		t.Errorf("origin served %d bytes (%d chunks) to a reader at chunk 1; want 6 chunks", got, got/chunk)
	}
}

// waitBytes waits until the origin has served at least n bytes.
func waitBytes(t *testing.T, o *origintest.Mem, n int64) {
	t.Helper()
	testenv.Wait(t, fmt.Sprintf("the origin to serve %d bytes", n), func() error {
		if got := o.Bytes.Load(); got < n {
			return fmt.Errorf("origin served %d bytes", got)
		}
		return nil
	})
}

// TestChangedDropsInfo opens a version the origin no longer has: the error
// matches origin.ErrChanged, and the cached Info goes with it, so the next
// Stat asks the origin instead of waiting out the TTL.
func TestChangedDropsInfo(t *testing.T) {
	o := origintest.NewMem()
	o.Put("a.txt", []byte("one"))
	c := newCache(t, o, cache.Config{TTL: cache.TTL{Default: time.Hour, Max: time.Hour}})
	old := mustStat(t, c, "a.txt")
	o.Put("a.txt", []byte("two"))
	if _, err := origintest.Read(t.Context(), c, old, 0, -1); !errors.Is(err, origin.ErrChanged) {
		t.Fatalf("Open(replaced version) = %v; want origin.ErrChanged", err)
	}
	if info := mustStat(t, c, "a.txt"); info.ETag == old.ETag || o.Stats.Load() != 2 {
		t.Errorf("Stat after ErrChanged: ETag %s, origin Stats %d; want a new ETag, 2", info.ETag, o.Stats.Load())
	}
}

// TestClose ends fills in progress: their readers fail, and later calls
// return ErrClosed.
func TestClose(t *testing.T) {
	o := origintest.NewMem()
	o.Put("a.bin", origintest.Content("close", 100_000))
	o.Gate(make(chan struct{}), 10)
	c, err := cache.New(o, cache.Config{Name: "d", MemoryBytes: 1 << 20, DiskDir: t.TempDir(), DiskBytes: 1 << 20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	info := mustStat(t, c, "a.bin")
	rc, err := c.Open(t.Context(), info, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := io.ReadAll(rc); err == nil {
		t.Errorf("reading a fill after Close succeeded; want an error")
	}
	if _, err := c.Stat(t.Context(), "other"); !errors.Is(err, cache.ErrClosed) {
		t.Errorf("Stat after Close = %v; want ErrClosed", err)
	}
	if _, err := c.Open(t.Context(), info, 0, -1); !errors.Is(err, cache.ErrClosed) {
		t.Errorf("Open after Close = %v; want ErrClosed", err)
	}
}
