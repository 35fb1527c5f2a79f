// Package edgetest holds what the edge's tests share: an in-memory origin
// and the suite every adapter of the edge must pass (Run), since adapters
// hold no policy and a behavior difference between them is a bug. It is
// imported only by tests.
package edgetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/signet-dev/signet/internal/origin"
)

// Mem is an in-memory origin. It is safe for concurrent use.
type Mem struct {
	mu      sync.Mutex
	objects map[string]memObject
}

type memObject struct {
	info origin.Info
	data []byte
}

var _ origin.Origin = (*Mem)(nil)

// NewMem returns an empty Mem.
func NewMem() *Mem { return &Mem{objects: make(map[string]memObject)} }

// Put stores data as the current version of info.Key, with info's
// metadata; Size is taken from data.
func (m *Mem) Put(info origin.Info, data []byte) {
	info.Size = int64(len(data))
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[info.Key] = memObject{info: info, data: bytes.Clone(data)}
}

// Stat describes the current version of key.
func (m *Mem) Stat(ctx context.Context, key string) (origin.Info, error) {
	if err := ctx.Err(); err != nil {
		return origin.Info{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[key]
	if !ok {
		return origin.Info{}, fmt.Errorf("mem %q: %w", key, fs.ErrNotExist)
	}
	return o.info, nil
}

// Open reads n bytes at off of the version info describes (n < 0: to the
// end); a replaced version gives origin.ErrChanged.
func (m *Mem) Open(ctx context.Context, info origin.Info, off, n int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	o, ok := m.objects[info.Key]
	m.mu.Unlock()
	if !ok || o.info.ETag != info.ETag || !o.info.ModTime.Equal(info.ModTime) || o.info.Size != info.Size {
		return nil, fmt.Errorf("mem %q: %w", info.Key, origin.ErrChanged)
	}
	if off < 0 || off > o.info.Size {
		return nil, fmt.Errorf("mem %q: offset %d outside 0..%d", info.Key, off, o.info.Size)
	}
	end := o.info.Size
	if n >= 0 && off+n < end {
		end = off + n
	}
	return io.NopCloser(bytes.NewReader(o.data[off:end])), nil
}

// Presigning is a Mem that also presigns, for redirect mode. Its URLs are
// Base, the escaped key, and the lifetime in seconds as "?ttl=".
type Presigning struct {
	*Mem
	Base string
}

var _ origin.Presigner = Presigning{}

// Presign returns the URL of info's object.
func (p Presigning) Presign(ctx context.Context, info origin.Info, ttl time.Duration) (string, error) {
	if _, err := p.Stat(ctx, info.Key); err != nil {
		return "", err
	}
	if ttl <= 0 {
		return "", errors.New("mem: presign ttl must be positive")
	}
	return p.Base + (&url.URL{Path: info.Key}).EscapedPath() + "?ttl=" + strconv.Itoa(int(ttl/time.Second)), nil
}
