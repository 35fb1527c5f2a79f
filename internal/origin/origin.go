// Package origin defines where the edge reads objects from: the Origin
// interface, the Info of one object version, helpers built on them, and
// the Recorder through which an origin that caches (the edge cache) tells
// the edge how it answered. Implementations live in sub-packages (dir, s3,
// http) and all run the contract suite in origintest. This package imports
// only the standard library.
package origin

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// Info describes one version of an object.
type Info struct {
	Key         string
	Size        int64
	ModTime     time.Time
	ETag        string // quoted strong validator; "" if the origin has none
	ContentType string // "" lets the edge guess from the key's extension
	// CacheControl and Expires are the origin's caching headers, as sent;
	// "" when absent. The cache honours them.
	CacheControl string
	Expires      string
}

// An Origin is a read-only source of objects. Implementations must be safe
// for concurrent use.
type Origin interface {
	// Stat describes the current version of key. A missing key gives an
	// error matching fs.ErrNotExist. Keys are decoded object names without
	// a leading '/', such as "videos/a b.mp4".
	Stat(ctx context.Context, key string) (Info, error)
	// Open reads n bytes from offset off of the version info describes
	// (n < 0: to the end; see Span for the range rule: an offset outside
	// the object is an error, a range past the end is cut at the end). If
	// that version is gone, replaced or removed, the error matches
	// ErrChanged. Cancelling ctx aborts the read.
	Open(ctx context.Context, info Info, off, n int64) (io.ReadCloser, error)
}

// A Presigner can hand out a short-lived URL from which a client reads the
// object straight from storage (the edge's redirect mode). Only origins with
// such URLs, like S3, implement it. It asks nothing of the origin, so
// decorators do not pass it on: the server hands the origin itself to the
// behaviors that redirect (edge.Behavior.Presigner).
type Presigner interface {
	// Presign returns a URL valid for ttl that reads the version info
	// describes.
	Presign(ctx context.Context, info Info, ttl time.Duration) (string, error)
}

// A Getter answers a Stat and opens the start of the object in one origin
// request, where Stat then Open would take two round trips (S3: a ranged
// GetObject instead of HeadObject, then GetObject). The edge cache uses it
// on a cold miss, through Get.
//
// Decorators (a health check, metrics) implement it whatever they wrap, by
// calling Get on the origin they wrap, so that what that origin can do is
// never hidden behind them.
type Getter interface {
	// Get returns what Stat would for key, and a reader of the first
	// min(n, Info.Size) bytes of that version; n is positive. Errors are
	// Stat's. The reader is nil when the origin answered with a Stat alone
	// (a decorator over an origin that is no Getter).
	Get(ctx context.Context, key string, n int64) (Info, io.ReadCloser, error)
}

// Get calls o's Get if o is a Getter, and otherwise its Stat, with a nil
// reader: the Info of key and, when the origin could read it in the same
// request, a reader of the first min(n, Info.Size) bytes.
func Get(ctx context.Context, o Origin, key string, n int64) (Info, io.ReadCloser, error) {
	if g, ok := o.(Getter); ok {
		return g.Get(ctx, key, n)
	}
	info, err := o.Stat(ctx, key)
	return info, nil, err
}

// ErrChanged reports that the object version an Info describes is no longer
// the one stored: it changed between Stat and Open.
var ErrChanged = errors.New("origin: object changed")

// ErrInvalidKey reports a key the origin refuses to look up, such as one
// that escapes its root.
var ErrInvalidKey = errors.New("origin: invalid key")

// ErrUnreachable marks the failure of an origin that gave no answer: the
// connection was refused, reset or timed out, the name did not resolve, or
// no response came within the origin's timeout. Origins wrap such failures
// with it, and never a caller's cancellation nor an answer, be it a 404 or
// a 500. It is what tells the edge that an origin is down (package health).
var ErrUnreachable = errors.New("origin: unreachable")

// ErrDown is the error of a call that was not made because the origin was
// found unreachable and has not answered since (package health). Such an
// error also matches the failure that marked the origin down, so a timeout
// still reads as one.
var ErrDown = errors.New("origin: down")

// ParseContentRange parses a Content-Range header of a 206 response,
// "bytes first-last/size", where size is -1 for "*". It reports false for
// anything else, and for a range that is empty or past size.
func ParseContentRange(s string) (first, last, size int64, ok bool) {
	spec, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, total, found := strings.Cut(spec, "/")
	if !found {
		return 0, 0, 0, false
	}
	a, b, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	size = -1
	var err3 error
	if total != "*" {
		size, err3 = strconv.ParseInt(total, 10, 64)
	}
	if err1 != nil || err2 != nil || err3 != nil || first < 0 || last < first || size >= 0 && last >= size {
		return 0, 0, 0, false
	}
	return first, last, size, true
}
