package edgetest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/signet-dev/signet/internal/origin"
)

// streamOrigin serves two objects that are not in memory: "big.bin", size
// bytes of a repeating pattern generated as they are read, and
// "block.bin", whose reads block until their context ends. It is safe for
// concurrent use.
type streamOrigin struct {
	size      int64
	opened    chan struct{} // receives once block.bin is opened
	cancelled chan error    // receives why a block.bin read ended
}

var _ origin.Origin = (*streamOrigin)(nil)

func newStreamOrigin(size int64) *streamOrigin {
	return &streamOrigin{size: size, opened: make(chan struct{}, 1), cancelled: make(chan error, 1)}
}

// period is the pattern's period: a prime, so that it never lines up with
// buffer sizes.
const period = 251

// patternTable holds the pattern from every phase onwards for 64 KiB.
var patternTable = func() []byte {
	b := make([]byte, period+64<<10)
	for i := range b {
		b[i] = byte(i % period)
	}
	return b
}()

// patternAt returns the n (at most 64 KiB) pattern bytes at offset off.
func patternAt(off int64, n int) []byte {
	i := int(off % period)
	return patternTable[i : i+n]
}

func (s *streamOrigin) Stat(ctx context.Context, key string) (origin.Info, error) {
	mod := time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)
	switch key {
	case "big.bin":
		return origin.Info{Key: key, Size: s.size, ModTime: mod, ETag: `"big"`}, nil
	case "block.bin":
		return origin.Info{Key: key, Size: 1 << 20, ModTime: mod, ETag: `"block"`}, nil
	}
	return origin.Info{}, fmt.Errorf("stream %q: %w", key, fs.ErrNotExist)
}

func (s *streamOrigin) Open(ctx context.Context, info origin.Info, off, n int64) (io.ReadCloser, error) {
	if info.Key == "block.bin" {
		s.opened <- struct{}{}
		return &blockReader{ctx: ctx, done: s.cancelled}, nil
	}
	if n < 0 || off+n > s.size {
		n = s.size - off
	}
	return io.NopCloser(&patternReader{off: off, left: n}), nil
}

type patternReader struct{ off, left int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), r.left, 64<<10))
	copy(p, patternAt(r.off, n))
	r.off += int64(n)
	r.left -= int64(n)
	return n, nil
}

// blockReader blocks until its context ends, then reports why.
type blockReader struct {
	ctx  context.Context
	done chan<- error
}

func (r *blockReader) Read([]byte) (int, error) {
	<-r.ctx.Done()
	err := r.ctx.Err()
	select {
	case r.done <- err:
	default:
	}
	return 0, err
}

func (r *blockReader) Close() error { return nil }
