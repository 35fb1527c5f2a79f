package origintest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signet-dev/signet/internal/origin"
)

// Mem is an origin in memory, for the tests of what reads from origins
// (the edge, the edge cache, decorators), and its own Fixture; it runs the
// contract suite like every origin. It notes what it is asked, and can be
// told to fail or to hold readers back. Its methods are safe for
// concurrent use.
type Mem struct {
	// Stats, Opens and Bytes count the Stat and Open calls that got past
	// the context and key checks, and the bytes read.
	Stats, Opens, Bytes atomic.Int64

	mu      sync.Mutex
	objects map[string]memObject
	version int      // of the last Put, in its ETag
	asked   []string // the key of every Stat
	statErr error    // when set, Stat fails with it
	openErr error    // when set, Open fails with it
	gate    chan struct{}
	gateAt  int64
	noETag  bool

	cancelled  chan struct{}
	cancelOnce sync.Once
}

type memObject struct {
	info origin.Info
	data []byte
}

var _ origin.Origin = (*Mem)(nil)

// MemModTime is the ModTime of the objects Put stores.
var MemModTime = time.Unix(1e9, 0)

// NewMem returns an empty Mem.
func NewMem() *Mem {
	return &Mem{objects: make(map[string]memObject), cancelled: make(chan struct{})}
}

// Put stores data under key as a new version, with the ETag "vN" of the
// Nth Put and MemModTime. It implements Fixture.
func (m *Mem) Put(key string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.version++
	m.put(origin.Info{Key: key, ModTime: MemModTime, ETag: fmt.Sprintf(`"v%d"`, m.version)}, data)
	return nil
}

// PutInfo stores data as the current version of info.Key, with info's
// metadata as it is, be it invalid; Size is taken from data.
func (m *Mem) PutInfo(info origin.Info, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.put(info, data)
}

func (m *Mem) put(info origin.Info, data []byte) {
	info.Size = int64(len(data))
	m.objects[info.Key] = memObject{info: info, data: bytes.Clone(data)}
}

// Remove deletes key. It implements Fixture.
func (m *Mem) Remove(key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	return nil
}

// Asked returns the key of every Stat so far, in order, refused ones
// included.
func (m *Mem) Asked() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.asked...)
}

// ResetAsked forgets the keys asked so far.
func (m *Mem) ResetAsked() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.asked = m.asked[:0]
}

// FailStat makes Stat fail with err once the context and key are checked;
// nil ends it.
func (m *Mem) FailStat(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.statErr = err
}

// FailOpen makes Open fail with err once the context and range are
// checked; nil ends it.
func (m *Mem) FailOpen(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.openErr = err
}

// Gate holds the readers opened from now on at byte at of the object until
// gate is closed (or their context ends); a nil gate holds nothing.
func (m *Mem) Gate(gate chan struct{}, at int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gate, m.gateAt = gate, at
}

// HideETags makes Stat describe objects without their ETag, as an origin
// without validators does.
func (m *Mem) HideETags() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.noETag = true
}

// Cancelled is closed when a reader first finds its context done.
func (m *Mem) Cancelled() <-chan struct{} { return m.cancelled }

// described returns how Stat describes obj. m.mu is held.
func (m *Mem) described(obj memObject) origin.Info {
	info := obj.info
	if m.noETag {
		info.ETag = ""
	}
	return info
}

// Stat describes the current version of key.
func (m *Mem) Stat(ctx context.Context, key string) (origin.Info, error) {
	m.mu.Lock()
	m.asked = append(m.asked, key)
	m.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return origin.Info{}, err
	}
	if err := origin.CheckKey(key); err != nil {
		return origin.Info{}, err
	}
	m.Stats.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.statErr != nil {
		return origin.Info{}, m.statErr
	}
	obj, ok := m.objects[key]
	if !ok {
		return origin.Info{}, fmt.Errorf("mem origin: %s: %w", key, fs.ErrNotExist)
	}
	return m.described(obj), nil
}

// Open reads n bytes at off of the version info describes (n < 0: to the
// end); a version that is no longer the one Stat describes gives
// origin.ErrChanged. Its reader reads at most 16 KiB at a time and checks
// its context before each Read.
func (m *Mem) Open(ctx context.Context, info origin.Info, off, n int64) (io.ReadCloser, error) {
	n, err := origin.CheckOpen(ctx, info, off, n)
	if err != nil {
		return nil, err
	}
	m.Opens.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.openErr != nil {
		return nil, m.openErr
	}
	obj, ok := m.objects[info.Key]
	if cur := m.described(obj); !ok || cur.Size != info.Size || cur.ETag != info.ETag || !cur.ModTime.Equal(info.ModTime) {
		return nil, fmt.Errorf("mem origin: %s: %w", info.Key, origin.ErrChanged)
	}
	return &memReader{m: m, ctx: ctx, data: obj.data[off : off+n], off: off, gate: m.gate, gateAt: m.gateAt}, nil
}

type memReader struct {
	m      *Mem
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
		r.m.cancelOnce.Do(func() { close(r.m.cancelled) })
		return 0, err
	}
	p = p[:min(len(p), len(r.data), 16<<10)]
	if r.gate != nil && r.off < r.gateAt {
		p = p[:min(int64(len(p)), r.gateAt-r.off)]
	}
	n := copy(p, r.data)
	r.data, r.off = r.data[n:], r.off+int64(n)
	r.m.Bytes.Add(int64(n))
	return n, nil
}

func (r *memReader) Close() error { return nil }
