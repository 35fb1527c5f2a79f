package cache_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cache"
	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/origintest"
)

// memOrigin is an origin in memory that counts what the cache asks of it.
// It is also its own origintest.Fixture. Failures and a gate that holds
// readers back can be switched on. Its methods are safe for concurrent use.
type memOrigin struct {
	mu      sync.Mutex
	objs    map[string]memObject
	version int
	statErr error         // when set, Stat fails with it
	openErr error         // when set, Open fails with it
	gate    chan struct{} // when set, readers stop after gateAt bytes until it is closed
	gateAt  int64
	noETag  bool // Stat gives no ETag

	stats, opens, bytes atomic.Int64
	cancelled           chan struct{} // closed when a reader first sees its context end
	cancelOnce          sync.Once
}

type memObject struct {
	data                  []byte
	etag                  string
	cacheControl, expires string
}

func newMemOrigin() *memOrigin {
	return &memOrigin{objs: map[string]memObject{}, cancelled: make(chan struct{})}
}

// Put stores data under key as a new version with a new ETag.
func (o *memOrigin) Put(key string, data []byte) error {
	return o.PutWith(key, data, "", "")
}

// PutWith is Put with Cache-Control and Expires headers.
func (o *memOrigin) PutWith(key string, data []byte, cacheControl, expires string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.version++
	o.objs[key] = memObject{data: data, etag: fmt.Sprintf(`"v%d"`, o.version), cacheControl: cacheControl, expires: expires}
	return nil
}

func (o *memOrigin) Remove(key string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.objs, key)
	return nil
}

func (o *memOrigin) set(f func(o *memOrigin)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	f(o)
}

func (o *memOrigin) Stat(ctx context.Context, key string) (origin.Info, error) {
	if err := ctx.Err(); err != nil {
		return origin.Info{}, err
	}
	if err := origin.CheckKey(key); err != nil {
		return origin.Info{}, err
	}
	o.stats.Add(1)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.statErr != nil {
		return origin.Info{}, o.statErr
	}
	obj, ok := o.objs[key]
	if !ok {
		return origin.Info{}, fmt.Errorf("mem origin: %s: %w", key, fs.ErrNotExist)
	}
	info := origin.Info{
		Key: key, Size: int64(len(obj.data)), ModTime: time.Unix(1e9, 0), ETag: obj.etag,
		CacheControl: obj.cacheControl, Expires: obj.expires,
	}
	if o.noETag {
		info.ETag = ""
	}
	return info, nil
}

func (o *memOrigin) Open(ctx context.Context, info origin.Info, off, n int64) (io.ReadCloser, error) {
	n, err := origin.CheckOpen(ctx, info, off, n)
	if err != nil {
		return nil, err
	}
	o.opens.Add(1)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.openErr != nil {
		return nil, o.openErr
	}
	obj, ok := o.objs[info.Key]
	if !ok || int64(len(obj.data)) != info.Size || info.ETag != "" && obj.etag != info.ETag {
		return nil, fmt.Errorf("mem origin: %s: %w", info.Key, origin.ErrChanged)
	}
	return &memReader{o: o, ctx: ctx, data: obj.data[off : off+n], off: off, gate: o.gate, gateAt: o.gateAt}, nil
}

type memReader struct {
	o      *memOrigin
	ctx    context.Context
	data   []byte
	off    int64 // of data[0] in the object
	gate   chan struct{}
	gateAt int64
}

func (r *memReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if r.gate != nil && r.off >= r.gateAt {
		select {
		case <-r.gate:
			r.gate = nil
		case <-r.ctx.Done():
		}
	}
	if err := r.ctx.Err(); err != nil {
		r.o.cancelOnce.Do(func() { close(r.o.cancelled) })
		return 0, err
	}
	p = p[:min(len(p), len(r.data), 16<<10)]
	if r.gate != nil && r.off < r.gateAt {
		p = p[:min(int64(len(p)), r.gateAt-r.off)]
	}
	n := copy(p, r.data)
	r.data, r.off = r.data[n:], r.off+int64(n)
	r.o.bytes.Add(int64(n))
	return n, nil
}

func (r *memReader) Close() error { return nil }

// clockStart is where the tests' clocks start.
var clockStart = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// content returns size deterministic pseudo-random bytes for seed.
func content(seed string, size int) []byte {
	var s [32]byte
	copy(s[:], seed)
	b := make([]byte, size)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

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
func outcomeOf(t testing.TB, f func(ctx context.Context)) (cache.Outcome, bool) {
	var rec cache.Recorder
	f(cache.WithRecorder(t.Context(), &rec))
	return rec.Outcome(), rec.Stale()
}

// getOrigin is a memOrigin that is also an origin.Getter: Get counts in
// gets, and its own Stat and Open in stats and opens.
type getOrigin struct {
	*memOrigin
	gets atomic.Int64
}

func (o *getOrigin) Get(ctx context.Context, key string, n int64) (origin.Info, io.ReadCloser, error) {
	o.gets.Add(1)
	info, err := o.memOrigin.Stat(ctx, key)
	if err != nil {
		return origin.Info{}, nil, err
	}
	rc, err := o.memOrigin.Open(ctx, info, 0, min(n, info.Size))
	return info, rc, err
}
