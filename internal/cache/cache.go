// Package cache is an origin.Origin decorator that keeps what the edge
// reads from an origin: Infos for a while, bodies until they are evicted.
//
// Keys. A body is stored in chunks of Config.ChunkSize bytes, keyed by the
// distribution (Config.Name), the object key, its ETag and size, and the
// chunk's index. A changed object has a new ETag and so new keys: bodies
// are immutable data, never invalidated, only evicted. An Info without an
// ETag names no version, so neither it nor its body is cached: such
// objects pass straight through. What expires is an Info (the result of
// Stat): it is fresh for a lifetime computed from the origin's
// Cache-Control and Expires and the behavior's TTL (see TTL.Lifetime).
// Keys never hold signing parameters: the Origin interface carries an
// object key, never a URL or its query. Errors are never cached: a failed
// Stat or Open (a missing object, a refusal, a timeout) is asked of the
// origin again by the next request.
//
// Tiers. A memory tier (otter, bounded by the weight of its chunks in
// bytes) sits in front of an optional disk tier (one checksummed file per
// chunk, written atomically, bounded in bytes, rebuilt from the directory
// when a Cache starts; see disk.go for the format).
//
// Coalescing. Concurrent misses of one chunk cause one origin read: the
// first starts a fill, which streams the chunk into a buffer that grows as
// bytes arrive, and every reader, the first included, follows that buffer,
// so waiters get bytes as they arrive rather than after the download. A
// fill reads from the origin with one Open the run of consecutive chunks
// that the range needs and nobody has or is fetching, so a Range on a
// large uncached object fetches only the chunks it touches. A fill runs at
// most a few chunks ahead of its furthest reader; when its last reader
// leaves, it finishes the chunk it is in (so a short range leaves a whole
// chunk cached) and stops. Concurrent Stats of one key cause one origin
// Stat.
//
// Cold misses. When the origin can read the start of an object with its
// Info (S3: see origin.Getter), a Stat of a key the cache holds no Info for
// asks the origin for the Info and the first chunk in one request, and
// hands the chunk to a fill: the Open that follows finds its first bytes on
// their way instead of waiting for a second round trip. A Stat without an
// Open (a HEAD, a 304) still leaves that chunk cached. Revalidations of a
// known key use Stat.
//
// Stale-if-error. When the origin fails a Stat (other than by saying the
// object does not exist or may not be read), an Info that expired less
// than Config.MaxStale ago, and whose whole body is cached, is served
// instead, unless the origin said must-revalidate, proxy-revalidate or
// no-cache; its stale-if-error=N narrows the window. The cache does not
// track the origin's health: an origin behind a health check (package
// health) fails at once while it is down, and the stale copy is served
// as soon.
//
// Behaviors. Each edge behavior reads through a view of the cache with
// its own TTLs (WithTTL), built once with the server; the views share the
// cache's entries and fills.
//
// Outcomes. Callers learn whether a call was a Hit, RefreshHit, Miss or
// Error, CloudFront's X-Cache values, through an origin.Recorder in the
// context. An edge request goes:
//
//	o := c.WithTTL(behaviorTTL) // once, when the edge is built
//	var rec origin.Recorder
//	ctx = origin.WithRecorder(ctx, &rec)
//	info, err := o.Stat(ctx, key)       // Hit, RefreshHit, Miss or Error
//	rc, err := o.Open(ctx, info, off, n) // decides Hit or Miss before it returns
//	header.Set("X-Cache", rec.Outcome().String()+" from signet")
package cache

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/signet-dev/signet/internal/origin"
)

// Defaults for the zero values of Config fields.
const (
	DefaultChunkSize       = 1 << 20
	DefaultMetadataEntries = 1 << 16
)

const (
	// entryOverhead is what a chunk in the memory tier weighs beyond its
	// bytes: the tier's node, key and slice header, roughly.
	entryOverhead = 128
	// diskQueue chunks may wait for the disk writers, which keeps what
	// a fast origin can pile up in memory ahead of a slow disk bounded.
	diskQueue   = 4
	diskWriters = 2
)

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("cache: closed")

// ErrDirInUse reports a disk directory that another Cache holds.
var ErrDirInUse = errors.New("cache: disk dir in use by another cache")

// Config describes one Cache. New checks it and reports every problem at
// once.
type Config struct {
	// Name is the distribution the cache serves; it is part of every
	// key on disk. Required.
	Name string
	// MemoryBytes bounds the memory tier: the bytes of the chunks it
	// holds plus a small overhead per chunk. Required. Not counted: the
	// chunk each fill in progress is reading, the few fetched chunks
	// waiting for the disk writers (6 at most), and chunks that open
	// readers still hold after the tier evicted them.
	MemoryBytes int64
	// MetadataEntries bounds how many Infos are kept; 0 means
	// DefaultMetadataEntries.
	MetadataEntries int
	// DiskDir holds the disk tier; "" means none. Each Cache needs a
	// directory of its own (it takes a lock on it).
	DiskDir string
	// DiskBytes bounds the disk tier: the sizes of its files, headers
	// included. Required with DiskDir.
	DiskBytes int64
	// TTL is used by the Cache's own Stat and Open; views from WithTTL
	// use theirs.
	TTL TTL
	// MaxStale is how long past its lifetime an Info may still be served
	// when the origin fails; 0 disables stale-if-error.
	MaxStale time.Duration
	// MaxObjectBytes, when positive, is the largest object whose body is
	// kept: a larger one is read straight from the origin (its Info is
	// still cached), so that a few huge objects do not push out many
	// small ones, and a local file keeps its sendfile path.
	MaxObjectBytes int64
	// ChunkSize is the unit of range fills and of storage, from 4 KiB to
	// 64 MiB; 0 means DefaultChunkSize. Fills start at multiples of it.
	ChunkSize int64
	// Now tells the time; nil means time.Now.
	Now func() time.Time
}

func (cfg *Config) check() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("cache: "+format, args...)) }
	if cfg.Name == "" {
		add("Name: required")
	}
	if cfg.MemoryBytes <= 0 {
		add("MemoryBytes: %d is not positive", cfg.MemoryBytes)
	}
	if cfg.MetadataEntries < 0 {
		add("MetadataEntries: %d is negative", cfg.MetadataEntries)
	}
	switch {
	case cfg.DiskDir != "" && cfg.DiskBytes <= 0:
		add("DiskBytes: %d is not positive", cfg.DiskBytes)
	case cfg.DiskDir == "" && cfg.DiskBytes != 0:
		add("DiskBytes: set without DiskDir")
	}
	if cfg.ChunkSize != 0 {
		if err := CheckChunkSize(cfg.ChunkSize); err != nil {
			add("ChunkSize: %d is %v", cfg.ChunkSize, err)
		}
	}
	if err := cfg.TTL.Check(); err != nil {
		errs = append(errs, fmt.Errorf("cache: TTL: %w", err))
	}
	if cfg.MaxStale < 0 {
		add("MaxStale: %v is negative", cfg.MaxStale)
	}
	if cfg.MaxObjectBytes < 0 {
		add("MaxObjectBytes: %d is negative", cfg.MaxObjectBytes)
	}
	return errors.Join(errs...)
}

// Cache is an origin.Origin that answers from its tiers and asks next for
// the rest. Its methods are safe for concurrent use. Close stops it.
type Cache struct {
	next  origin.Origin
	cfg   Config
	chunk int64
	log   *slog.Logger

	mem  *otter.Cache[chunkKey, []byte]
	meta *otter.Cache[string, metaEntry]
	disk *disk // nil without a disk tier

	// ctx is cancelled by Close; fills and revalidations run under it,
	// not under a caller's context, since other callers share them.
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup // fills and revalidations
	writes  chan *part     // filled chunks for the disk writers
	writers sync.WaitGroup

	closed atomic.Bool // set under mu

	mu    sync.Mutex
	parts map[chunkKey]*part // chunks being fetched, or written to disk

	stats map[string]*revalidate // Stats being asked of the origin
}

var _ origin.Origin = (*Cache)(nil)

// New returns a Cache in front of next. With a disk tier it opens
// cfg.DiskDir, creating it if needed, deletes temporary files an
// interrupted run left, and indexes the chunk files there. A nil logger
// discards the cache's logs.
func New(next origin.Origin, cfg Config, logger *slog.Logger) (*Cache, error) {
	if cfg.ChunkSize == 0 {
		cfg.ChunkSize = DefaultChunkSize
	}
	if cfg.MetadataEntries == 0 {
		cfg.MetadataEntries = DefaultMetadataEntries
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	err := cfg.check()
	if next == nil {
		err = errors.Join(err, errors.New("cache: no origin"))
	}
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// Maintenance runs on the calling goroutine, so the tiers start no
	// goroutines that nobody waits for.
	inline := func(fn func()) { fn() }
	mem, err := otter.New(&otter.Options[chunkKey, []byte]{
		MaximumWeight: uint64(cfg.MemoryBytes),
		Weigher: func(k chunkKey, b []byte) uint32 {
			return uint32(len(b) + len(k.obj.key) + len(k.obj.etag) + entryOverhead)
		},
		Executor: inline,
		Logger:   otterLogger{logger},
	})
	if err != nil {
		return nil, fmt.Errorf("cache: memory tier: %w", err)
	}
	meta, err := otter.New(&otter.Options[string, metaEntry]{
		MaximumSize: cfg.MetadataEntries,
		Executor:    inline,
		Logger:      otterLogger{logger},
	})
	if err != nil {
		return nil, fmt.Errorf("cache: metadata: %w", err)
	}
	c := &Cache{
		next:  next,
		cfg:   cfg,
		chunk: cfg.ChunkSize,
		log:   logger,
		mem:   mem,
		meta:  meta,
		parts: map[chunkKey]*part{},
		stats: map[string]*revalidate{},
	}
	if cfg.DiskDir != "" {
		if c.disk, err = openDisk(cfg.DiskDir, cfg.DiskBytes, logger); err != nil {
			return nil, err
		}
		c.writes = make(chan *part, diskQueue)
		for range diskWriters {
			c.writers.Go(c.writer)
		}
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Close stops the fills and revalidations in progress, waits for them and
// for the chunks queued for the disk, and releases the disk directory.
// Readers still open fail. Calls after Close return ErrClosed.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return nil
	}
	c.closed.Store(true)
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	if c.disk == nil {
		return nil
	}
	close(c.writes)
	c.writers.Wait()
	return c.disk.close()
}

// Stats is a snapshot of what a Cache holds.
type Stats struct {
	// MemoryBytes is the weight of the memory tier (chunk bytes plus
	// per-chunk overhead), at most Config.MemoryBytes.
	MemoryBytes  uint64
	MemoryChunks int
	// DiskBytes is the size of the disk tier's files, including those
	// being written, at most Config.DiskBytes.
	DiskBytes int64
	DiskFiles int
	// Infos is the number of cached Infos, fresh or stale.
	Infos int
	// Filling is the number of chunks being fetched from the origin,
	// or fetched and waiting to be written to disk.
	Filling int
}

// Stats returns what c holds now.
func (c *Cache) Stats() Stats {
	s := Stats{
		MemoryBytes:  c.mem.WeightedSize(),
		MemoryChunks: c.mem.EstimatedSize(),
		Infos:        c.meta.EstimatedSize(),
	}
	if c.disk != nil {
		s.DiskBytes, s.DiskFiles = c.disk.usage()
	}
	c.mu.Lock()
	s.Filling = len(c.parts)
	c.mu.Unlock()
	return s
}

// WithTTL returns a view of c that reads as c does but with the lifetimes
// t instead of Config.TTL: the origin an edge behavior reads through, its
// TTLs given once. Views share c's entries and fills: freshness is
// computed at each lookup from when the Info was fetched, so behaviors
// with different TTLs share one entry. Closing c ends its views.
func (c *Cache) WithTTL(t TTL) origin.Origin { return &view{c, t} }

// view is a Cache read with the TTLs of one behavior.
type view struct {
	c   *Cache
	ttl TTL
}

var _ origin.Origin = (*view)(nil)

// Stat is the Cache's Stat, with the view's TTLs.
func (v *view) Stat(ctx context.Context, key string) (origin.Info, error) {
	return v.c.stat(ctx, key, v.ttl)
}

// Open is the Cache's Open, with the view's TTLs.
func (v *view) Open(ctx context.Context, info origin.Info, off, n int64) (io.ReadCloser, error) {
	return v.c.open(ctx, info, off, n, v.ttl)
}

// metaEntry is a cached Info, with what its freshness is computed from.
type metaEntry struct {
	info    origin.Info
	fetched time.Time
	dirs    directives
}

func (e *metaEntry) fresh(t TTL, now time.Time) bool {
	life, _ := t.lifetime(e.dirs, e.fetched)
	return now.Before(e.fetched.Add(life))
}

// staleUntil is when e stops being served on an origin failure.
func (e *metaEntry) staleUntil(t TTL, maxStale time.Duration) time.Time {
	life, _ := t.lifetime(e.dirs, e.fetched)
	window := maxStale
	if e.dirs.mustRevalidate || e.dirs.noCache {
		window = 0
	}
	if e.dirs.staleIfError >= 0 {
		window = min(window, e.dirs.staleIfError)
	}
	return e.fetched.Add(life + window)
}

// revalidate is one origin Stat that concurrent callers share.
type revalidate struct {
	done    chan struct{}
	info    origin.Info
	err     error
	outcome origin.Outcome
	stale   bool
}

// Stat returns the cached Info of key while it is fresh, and otherwise
// asks the origin, once for all concurrent callers. Errors are the
// origin's, never cached.
func (c *Cache) Stat(ctx context.Context, key string) (origin.Info, error) {
	return c.stat(ctx, key, c.cfg.TTL)
}

// stat is Stat under the TTLs t.
func (c *Cache) stat(ctx context.Context, key string, t TTL) (origin.Info, error) {
	if err := ctx.Err(); err != nil {
		return origin.Info{}, err
	}
	if c.closed.Load() {
		origin.Record(ctx, origin.Error)
		return origin.Info{}, ErrClosed
	}
	if e, ok := c.meta.GetIfPresent(key); ok && e.fresh(t, c.cfg.Now()) {
		origin.Record(ctx, origin.Hit)
		return e.info, nil
	}
	if err := origin.CheckKey(key); err != nil {
		origin.Record(ctx, origin.Error)
		return origin.Info{}, err
	}
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		origin.Record(ctx, origin.Error)
		return origin.Info{}, ErrClosed
	}
	call := c.stats[key]
	if call == nil {
		call = &revalidate{done: make(chan struct{})}
		c.stats[key] = call
		c.wg.Go(func() { c.revalidate(key, t, call) })
	}
	c.mu.Unlock()
	select {
	case <-call.done:
	case <-ctx.Done():
		return origin.Info{}, ctx.Err()
	}
	if call.stale {
		origin.RecordStale(ctx)
	} else {
		origin.Record(ctx, call.outcome)
	}
	return call.info, call.err
}

// revalidate asks the origin for key's Info and stores it, or falls back
// to a stale one.
func (c *Cache) revalidate(key string, t TTL, call *revalidate) {
	defer func() {
		c.mu.Lock()
		delete(c.stats, key)
		c.mu.Unlock()
		close(call.done)
	}()
	old, had := c.meta.GetIfPresent(key)
	var info origin.Info
	var start io.ReadCloser // the object's first chunk, from a Get
	var err error
	if !had {
		// A cold miss: the Open that follows will want the first
		// chunk, so ask for it with the Info, in one origin request
		// if the origin can (origin.Getter).
		info, start, err = origin.Get(c.ctx, c.next, key, c.chunk)
	} else {
		info, err = c.next.Stat(c.ctx, key)
	}
	now := c.cfg.Now()
	if start != nil {
		c.prefill(info, t, start)
	}
	switch {
	case err == nil:
		call.info, call.outcome = info, origin.Miss
		if had && info.ETag != "" && old.info.ETag == info.ETag && old.info.Size == info.Size {
			call.outcome = origin.RefreshHit
		}
		e := metaEntry{info: info, fetched: now, dirs: parseDirectives(info, now)}
		if _, store := t.lifetime(e.dirs, now); store && info.ETag != "" {
			c.meta.Set(key, e)
		} else {
			c.meta.Invalidate(key)
		}
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || errors.Is(err, origin.ErrInvalidKey):
		c.meta.Invalidate(key) // the origin's answer, not a failure
		call.err, call.outcome = err, origin.Error
	case had && now.Before(old.staleUntil(t, c.cfg.MaxStale)) && c.cached(old.info):
		level := slog.LevelWarn
		if errors.Is(err, origin.ErrDown) {
			level = slog.LevelDebug // the health check logged the outage once
		}
		c.log.Log(c.ctx, level, "origin failed, serving stale", "path", key, "reason", err.Error())
		call.info, call.outcome, call.stale = old.info, origin.RefreshHit, true
	default:
		call.err, call.outcome = err, origin.Error
	}
}

// keeps reports whether the body of info is stored under t: it names a
// version (an ETag), the origin allows storing it, and it is no larger than
// Config.MaxObjectBytes.
func (c *Cache) keeps(info origin.Info, t TTL) bool {
	return info.ETag != "" && t.storable(info) && (c.cfg.MaxObjectBytes <= 0 || info.Size <= c.cfg.MaxObjectBytes)
}

// prefill hands rc, the first chunk of the version info describes, which
// a Get read along with the Info, to a fill of chunk 0, so that the Open
// after a cold Stat finds its first bytes already on their way. It closes
// rc when the body is not to be kept, or chunk 0 is cached or being
// fetched already.
func (c *Cache) prefill(info origin.Info, t TTL, rc io.ReadCloser) {
	obj := object{info.Key, info.ETag, info.Size}
	if info.Size == 0 || !c.keeps(info, t) {
		rc.Close()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var d *diskObject
	if c.closed.Load() || c.parts[chunkKey{obj, 0}] != nil || c.present(obj, &d, 0, 0) {
		rc.Close()
		return
	}
	f := c.newFill(info, obj, d, 0, 0)
	c.wg.Go(func() {
		defer rc.Close()
		c.fillFrom(f, rc)
	})
}

// forget drops the cached Info of info's key if it describes info's
// version, which the origin said is gone.
func (c *Cache) forget(info origin.Info) {
	if e, ok := c.meta.GetIfPresent(info.Key); ok && e.info.ETag == info.ETag {
		c.meta.Invalidate(info.Key)
	}
}

// Open reads n bytes from offset off of the version info describes (n < 0:
// to the end), from the cache where it has them and from a fill where it
// does not; the reader it returns blocks for bytes not yet fetched. Open
// returns once the origin has answered for the first chunk, so an origin
// error (such as one matching origin.ErrChanged) comes from Open. An info
// without an ETag, one the origin forbids storing, or one over
// Config.MaxObjectBytes, is read straight from the origin.
func (c *Cache) Open(ctx context.Context, info origin.Info, off, n int64) (io.ReadCloser, error) {
	return c.open(ctx, info, off, n, c.cfg.TTL)
}

// open is Open under the TTLs t.
func (c *Cache) open(ctx context.Context, info origin.Info, off, n int64, t TTL) (io.ReadCloser, error) {
	n, err := origin.CheckOpen(ctx, info, off, n)
	if err == nil && c.closed.Load() {
		err = ErrClosed
	}
	if err != nil {
		origin.Record(ctx, origin.Error)
		return nil, err
	}
	if !c.keeps(info, t) {
		rc, err := c.next.Open(ctx, info, off, n)
		if err != nil {
			origin.Record(ctx, origin.Error)
			return nil, err
		}
		origin.Record(ctx, origin.Miss)
		return rc, nil
	}
	r := &reader{c: c, ctx: ctx, info: info, obj: object{info.Key, info.ETag, info.Size}, pos: off, end: off + n}
	if n == 0 {
		origin.Record(ctx, origin.Hit)
		return r, nil
	}
	r.last = (r.end - 1) / c.chunk
	out := origin.Hit
	if !c.present(r.obj, &r.disk, off/c.chunk+1, r.last) {
		out = origin.Miss
	}
	if err := r.acquire(); err != nil {
		origin.Record(ctx, origin.Error)
		return nil, err
	}
	if r.part != nil {
		out = origin.Miss
		if err := r.part.started(ctx); err != nil {
			r.Close()
			origin.Record(ctx, origin.Error)
			return nil, err
		}
	}
	origin.Record(ctx, out)
	return r, nil
}

// cached reports whether every chunk of info's body is in a tier.
func (c *Cache) cached(info origin.Info) bool {
	if info.Size == 0 {
		return true
	}
	var d *diskObject
	return c.present(object{info.Key, info.ETag, info.Size}, &d, 0, (info.Size-1)/c.chunk)
}

// present reports whether chunks from to to of obj are all in a tier. *d
// is obj's disk names, computed into it when first needed.
func (c *Cache) present(obj object, d **diskObject, from, to int64) bool {
	for i := from; i <= to; i++ {
		if _, ok := c.mem.GetEntryQuietly(chunkKey{obj, i}); ok {
			continue
		}
		if c.disk == nil {
			return false
		}
		if *d == nil {
			*d = c.newDiskObject(obj)
		}
		if !c.disk.has((*d).key(i)) {
			return false
		}
	}
	return true
}

// chunkLen is the length of chunk idx of an object of size bytes.
func (c *Cache) chunkLen(size, idx int64) int64 {
	return min(c.chunk, size-idx*c.chunk)
}

// object names one version of one object.
type object struct {
	key, etag string
	size      int64
}

// chunkKey names one chunk in the memory tier and among the fills. The
// distribution is implied: a memory tier belongs to one Cache.
type chunkKey struct {
	obj object
	idx int64
}

// diskObject is how the disk tier names an object version: the SHA-256 of
// its identity names its files, and the identity is written in each.
type diskObject struct {
	hash     [32]byte
	identity []byte
}

// newDiskObject encodes the identity of obj in distribution c.cfg.Name:
// each string length-prefixed, then the size.
func (c *Cache) newDiskObject(obj object) *diskObject {
	var b []byte
	for _, s := range []string{c.cfg.Name, obj.key, obj.etag} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(obj.size))
	return &diskObject{hash: sha256.Sum256(b), identity: b}
}

func (d *diskObject) key(idx int64) diskKey { return diskKey{d.hash, idx} }

// chunkIdentity is the identity written in the file of chunk idx.
func (d *diskObject) chunkIdentity(idx int64) []byte {
	return binary.AppendUvarint(slices.Clip(d.identity), uint64(idx))
}

// otterLogger sends the tiers' warnings to the cache's logger.
type otterLogger struct{ log *slog.Logger }

func (l otterLogger) Warn(ctx context.Context, msg string, err error) {
	l.log.WarnContext(ctx, msg, "reason", err.Error())
}

func (l otterLogger) Error(ctx context.Context, msg string, err error) {
	l.log.ErrorContext(ctx, msg, "reason", err.Error())
}
