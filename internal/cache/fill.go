package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/signet-dev/signet/internal/origin"
)

// errAbandoned fails the chunks of a fill that every reader left.
var errAbandoned = errors.New("cache: fill abandoned")

// A fill fetches a run of consecutive chunks of one object version with
// one origin Open. It is shared: every reader that needs one of its chunks
// follows that chunk's part, and holds a reference on the fill until it
// closes. When the last reference goes, the fill stops after the chunk it
// is reading (see release).
type fill struct {
	info   origin.Info
	obj    object
	disk   *diskObject // nil without a disk tier
	first  int64       // index of parts[0]
	ctx    context.Context
	cancel context.CancelFunc

	// Guarded by Cache.mu.
	refs    int
	parts   []*part // an entry is nil once its part has left the registry
	reached int64   // the furthest chunk a reader of the fill has reached
	paced   signal  // broadcast when reached grows
}

// readAhead is how many chunks a fill may fetch past the furthest of its
// readers. It keeps the origin busy while readers send, without letting a
// fast origin fill the memory tier far ahead of slow readers, which would
// evict chunks before they are read and make them fetched again.
const readAhead = 4

// advance notes that a reader of f has reached chunk idx. c.mu is held.
func (f *fill) advance(idx int64) {
	if idx > f.reached {
		f.reached = idx
		f.paced.broadcast()
	}
}

// nextPart waits until f may fetch its i'th part, and returns it, or nil when
// the fill was abandoned.
func (c *Cache) nextPart(f *fill, i int) *part {
	c.mu.Lock()
	defer c.mu.Unlock()
	for f.first+int64(i) > f.reached+readAhead && f.refs > 0 && f.ctx.Err() == nil {
		f.paced.wait(f.ctx, &c.mu) // f.ctx's end is seen by the loop
	}
	return f.parts[i]
}

// A signal wakes the goroutines waiting for a change in state that a mutex
// guards, as sync.Cond does, but a wait also ends with a context. The zero
// signal is ready; its methods are called with that mutex held.
type signal struct {
	ch chan struct{} // closed at the next broadcast; nil while nobody waits
}

// broadcast wakes every wait.
func (s *signal) broadcast() {
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// wait unlocks mu until the next broadcast or the end of ctx, and locks it
// again before it returns; it returns ctx.Err() when ctx ended.
func (s *signal) wait(ctx context.Context, mu *sync.Mutex) error {
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	ch := s.ch
	mu.Unlock()
	defer mu.Lock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// A part is one chunk of a fill: a buffer that grows as bytes arrive.
// Readers wait on it for bytes past what they have read. Its methods are
// safe for concurrent use.
type part struct {
	fill   *fill
	idx    int64
	length int64

	mu   sync.Mutex
	buf  []byte // nil until the fill reaches the part; then the bytes so far
	done bool   // buf holds all length bytes
	err  error  // the fill failed before the part was done
	wake signal // broadcast at each change
}

func (p *part) key() chunkKey { return chunkKey{p.fill.obj, p.idx} }

// await waits, with p.mu held, until ready holds or ctx is done.
func (p *part) await(ctx context.Context, ready func() bool) error {
	for !ready() {
		if err := p.wake.wait(ctx, &p.mu); err != nil {
			return err
		}
	}
	return nil
}

// wait returns the bytes of the chunk from off on that have arrived,
// waiting until there is at least one, or the error that ended the fill.
func (p *part) wait(ctx context.Context, off int64) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.await(ctx, func() bool { return int64(len(p.buf)) > off || p.err != nil || p.done }); err != nil {
		return nil, err
	}
	switch {
	case int64(len(p.buf)) > off:
		return p.buf[off:], nil
	case p.err != nil:
		return nil, p.err
	}
	return nil, io.ErrUnexpectedEOF // off is past a done chunk: a bug
}

// started waits until the fill has reached p, which means the origin
// answered, or has failed.
func (p *part) started(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.await(ctx, func() bool { return p.buf != nil || p.err != nil }); err != nil {
		return err
	}
	if p.buf == nil {
		return p.err
	}
	return nil
}

func (p *part) publish(b []byte, done bool) {
	p.mu.Lock()
	p.buf, p.done = b, done
	p.wake.broadcast()
	p.mu.Unlock()
}

func (p *part) fail(err error) {
	p.mu.Lock()
	if !p.done {
		p.err = err
		p.wake.broadcast()
	}
	p.mu.Unlock()
}

// complete returns p's bytes once it is done.
func (p *part) complete() ([]byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf, p.done
}

// state reports whether the fill has reached p and whether p is done.
func (p *part) state() (started, done bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf != nil, p.done
}

// startFill registers a fill from chunk idx of r's object through the
// chunks r needs that no tier has and no fill is fetching, starts it, and
// returns its first part. c.mu is held.
func (c *Cache) startFill(r *reader, idx int64) *part {
	last := idx
	for j := idx + 1; j <= r.last; j++ {
		k := chunkKey{r.obj, j}
		if c.parts[k] != nil || c.present(r.obj, &r.disk, j, j) {
			break
		}
		last = j
	}
	f := c.newFill(r.info, r.obj, r.disk, idx, last)
	c.wg.Go(func() { c.run(f) })
	return f.parts[0]
}

// newFill registers a fill of chunks first through last of obj, the
// version info describes; d is obj's disk names, if known. c.mu is held.
func (c *Cache) newFill(info origin.Info, obj object, d *diskObject, first, last int64) *fill {
	ctx, cancel := context.WithCancel(c.ctx)
	f := &fill{info: info, obj: obj, disk: d, first: first, reached: first, ctx: ctx, cancel: cancel}
	if c.disk != nil && f.disk == nil {
		f.disk = c.newDiskObject(obj)
	}
	f.parts = make([]*part, 0, last-first+1)
	for j := first; j <= last; j++ {
		p := &part{fill: f, idx: j, length: c.chunkLen(obj.size, j)}
		f.parts = append(f.parts, p)
		c.parts[p.key()] = p
	}
	return f
}

// run opens f's chunks at the origin and fills them.
func (c *Cache) run(f *fill) {
	off := f.first * c.chunk
	n := min(int64(len(f.parts))*c.chunk, f.obj.size-off)
	c.log.Debug("cache fill", "path", f.obj.key, "offset", off, "bytes", n)
	rc, err := c.next.Open(f.ctx, f.info, off, n)
	if err != nil {
		f.cancel()
		c.fail(f, 0, err)
		return
	}
	defer rc.Close()
	c.fillFrom(f, rc)
}

// fillFrom reads f's chunks from rc and hands each to the tiers as it
// completes.
func (c *Cache) fillFrom(f *fill, rc io.Reader) {
	defer f.cancel()
	for i := range len(f.parts) {
		p := c.nextPart(f, i)
		if p == nil {
			return // abandoned (see release)
		}
		buf, err := fillPart(p, rc)
		if err != nil {
			c.fail(f, i, fmt.Errorf("cache: fill %s at %d: %w", f.obj.key, p.idx*c.chunk+int64(len(buf)), err))
			return
		}
		c.keep(p, buf)
	}
}

// fillPart reads p's bytes from rc, publishing them as they arrive, and
// returns them; on error, it returns what it read.
func fillPart(p *part, rc io.Reader) ([]byte, error) {
	buf := make([]byte, p.length)
	p.publish(buf[:0], p.length == 0)
	have := 0
	for have < len(buf) {
		m, err := rc.Read(buf[have:])
		if m > 0 {
			have += m
			p.publish(buf[:have], have == len(buf))
		}
		if err != nil && have < len(buf) {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return buf[:have], err
		}
	}
	return buf, nil
}

// keep stores a completed part in the tiers; it leaves the registry once
// its file is written, so that until then readers find it there.
func (c *Cache) keep(p *part, buf []byte) {
	c.mem.Set(p.key(), buf)
	if c.disk == nil {
		c.unregister(p)
		return
	}
	select {
	case c.writes <- p:
	case <-c.ctx.Done():
		c.unregister(p)
	}
}

// writer writes completed parts to the disk tier until Close.
func (c *Cache) writer() {
	for p := range c.writes {
		f := p.fill
		c.disk.put(f.disk.key(p.idx), f.disk.chunkIdentity(p.idx), p.buf)
		c.unregister(p)
	}
}

// unregister takes a part out of the registry and out of its fill.
func (c *Cache) unregister(p *part) {
	c.mu.Lock()
	c.unregisterLocked(p)
	c.mu.Unlock()
}

func (c *Cache) unregisterLocked(p *part) {
	if k := p.key(); c.parts[k] == p {
		delete(c.parts, k)
	}
	p.fill.parts[p.idx-p.fill.first] = nil
}

// fail ends f at its i'th part: that part and the rest fail with err and
// leave the registry. A version the origin no longer has also loses its
// cached Info.
func (c *Cache) fail(f *fill, i int, err error) {
	if errors.Is(err, origin.ErrChanged) {
		c.forget(f.info)
	}
	c.log.Debug("cache fill failed", "path", f.obj.key, "reason", err.Error())
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range f.parts[i:] {
		if p != nil {
			c.unregisterLocked(p)
			p.fail(err)
		}
	}
}

// hold gives r a reference on f, whose chunk idx it reads. c.mu is held.
func (r *reader) hold(f *fill, idx int64) {
	if !slices.Contains(r.fills, f) {
		f.refs++
		r.fills = append(r.fills, f)
	}
	f.advance(idx)
}

// release drops a reader's reference on f. When the last one goes, f
// finishes the chunk it is reading, so that a short range still leaves a
// whole chunk cached, and stops there: the chunks it has not started
// leave the registry, and if it was reading none, its origin read is
// cancelled. c.mu is held.
func (c *Cache) release(f *fill) {
	if f.refs--; f.refs > 0 {
		return
	}
	reading := false
	for _, p := range f.parts {
		if p == nil {
			continue
		}
		switch started, done := p.state(); {
		case !started:
			c.unregisterLocked(p)
			p.fail(errAbandoned)
		case !done:
			reading = true
		}
	}
	if !reading {
		f.cancel()
	}
}

// reader reads one range of one object version, chunk after chunk, from
// the tiers or from fills. It is not safe for concurrent use.
type reader struct {
	c    *Cache
	ctx  context.Context
	info origin.Info
	obj  object
	disk *diskObject // computed when first needed

	pos, end int64 // the next byte to read, and the end of the range
	last     int64 // index of the range's last chunk

	// The current chunk covers [start, stop): its bytes when cached, or
	// the part being filled.
	start, stop int64
	data        []byte
	part        *part

	fills  []*fill // referenced until Close
	closed bool
}

// acquire points r at the chunk holding r.pos: the memory tier, then a fill
// in progress, then the disk tier, else a new fill.
func (r *reader) acquire() error {
	c := r.c
	idx := r.pos / c.chunk
	k := chunkKey{r.obj, idx}
	r.start, r.stop = idx*c.chunk, idx*c.chunk+c.chunkLen(r.obj.size, idx)
	r.data, r.part = nil, nil
	if len(r.fills) > 0 {
		c.mu.Lock()
		for _, f := range r.fills {
			f.advance(idx)
		}
		c.mu.Unlock()
	}
	if b, ok := c.mem.GetIfPresent(k); ok {
		r.data = b
		return nil
	}
	for attempt := 0; ; attempt++ {
		c.mu.Lock()
		if c.closed.Load() {
			c.mu.Unlock()
			return ErrClosed
		}
		if p := c.parts[k]; p != nil {
			if b, done := p.complete(); done {
				c.mu.Unlock()
				r.data = b // fetched, not yet in a tier
				return nil
			}
			r.hold(p.fill, idx)
			c.mu.Unlock()
			r.part = p
			return nil
		}
		if b, ok := c.mem.GetIfPresent(k); ok {
			c.mu.Unlock()
			r.data = b
			return nil
		}
		// A file that fails its check is deleted by get, so the
		// second attempt fetches; a third guards against a file
		// written again meanwhile.
		onDisk := false
		if c.disk != nil && attempt < 2 {
			if r.disk == nil {
				r.disk = c.newDiskObject(r.obj)
			}
			onDisk = c.disk.has(r.disk.key(idx))
		}
		if !onDisk {
			p := c.startFill(r, idx)
			r.hold(p.fill, idx)
			c.mu.Unlock()
			r.part = p
			return nil
		}
		c.mu.Unlock()
		if b, ok := c.disk.get(r.disk.key(idx), r.disk.chunkIdentity(idx), r.stop-r.start); ok {
			c.mem.Set(k, b)
			r.data = b
			return nil
		}
	}
}

// next returns bytes of the range at r.pos, waiting for a fill if it must.
func (r *reader) next() ([]byte, error) {
	if r.closed {
		return nil, errors.New("cache: read after close")
	}
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	if r.pos >= r.end {
		return nil, io.EOF
	}
	if r.pos < r.start || r.pos >= r.stop || r.data == nil && r.part == nil {
		if err := r.acquire(); err != nil {
			return nil, err
		}
	}
	var b []byte
	if r.part != nil {
		var err error
		if b, err = r.part.wait(r.ctx, r.pos-r.start); err != nil {
			return nil, err
		}
	} else {
		b = r.data[r.pos-r.start:]
	}
	if rest := r.end - r.pos; int64(len(b)) > rest {
		b = b[:rest]
	}
	return b, nil
}

// Read reads the next bytes of the range.
func (r *reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b, err := r.next()
	n := copy(p, b)
	r.pos += int64(n)
	return n, err
}

// WriteTo writes the rest of the range to w straight from the cached or
// arriving chunks, without copying them first.
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		b, err := r.next()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		n, err := w.Write(b)
		r.pos += int64(n)
		total += int64(n)
		if err == nil && n < len(b) {
			err = io.ErrShortWrite
		}
		if err != nil {
			return total, err
		}
	}
}

// Close releases the reader's references on fills; a fill no reader
// references any more stops.
func (r *reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.data, r.part = nil, nil
	if len(r.fills) > 0 {
		r.c.mu.Lock()
		for _, f := range r.fills {
			r.c.release(f)
		}
		r.c.mu.Unlock()
		r.fills = nil
	}
	return nil
}
