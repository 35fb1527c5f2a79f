package cache

import (
	"context"
	"sync/atomic"
)

// Outcome says how the cache answered, in CloudFront's X-Cache terms. When
// one request makes several calls (a Stat, then one Open per range), the
// worst counts, in the order of the constants: an Error outweighs a Miss,
// which outweighs a RefreshHit, which outweighs a Hit.
type Outcome uint32

const (
	// None means no cache call was recorded.
	None Outcome = iota
	// Hit: served from the cache without asking the origin.
	Hit
	// RefreshHit: the cached Info had expired and the origin confirmed
	// it (same ETag), or the origin failed and a stale Info was served
	// (stale-if-error; Recorder.Stale says which).
	RefreshHit
	// Miss: the origin was asked and its answer, or some body bytes, came
	// from it.
	Miss
	// Error: the call failed, including an object the origin does not
	// have.
	Error
)

// String returns the X-Cache word for o: "Hit", "RefreshHit", "Miss" or
// "Error", and "" for None. CloudFront sends it followed by " from
// cloudfront".
func (o Outcome) String() string {
	switch o {
	case Hit:
		return "Hit"
	case RefreshHit:
		return "RefreshHit"
	case Miss:
		return "Miss"
	case Error:
		return "Error"
	}
	return ""
}

// A Recorder learns the outcome of the cache calls made with a context
// from WithRecorder: the edge puts one in each request's context, calls
// Stat and Open, and sets X-Cache from Outcome. Open decides its outcome
// before it returns (Hit when every byte of the range was cached then), so
// the header can be written before the body. The zero Recorder is ready;
// its methods are safe for concurrent use.
type Recorder struct {
	outcome atomic.Uint32
	stale   atomic.Bool
}

// Outcome returns the worst outcome recorded so far, or None.
func (r *Recorder) Outcome() Outcome { return Outcome(r.outcome.Load()) }

// Stale reports whether a stale Info was served because the origin failed
// (the outcome is then RefreshHit, unless something worse happened too).
func (r *Recorder) Stale() bool { return r.stale.Load() }

func (r *Recorder) record(o Outcome) {
	for {
		old := r.outcome.Load()
		if Outcome(old) >= o || r.outcome.CompareAndSwap(old, uint32(o)) {
			return
		}
	}
}

type recorderKey struct{}

// WithRecorder returns a context that makes the cache record its outcomes
// in r.
func WithRecorder(ctx context.Context, r *Recorder) context.Context {
	return context.WithValue(ctx, recorderKey{}, r)
}

// record notes o in the Recorder of ctx, if it has one.
func record(ctx context.Context, o Outcome) {
	if r, ok := ctx.Value(recorderKey{}).(*Recorder); ok {
		r.record(o)
	}
}

// recordStale notes a stale Info served because the origin failed.
func recordStale(ctx context.Context) {
	if r, ok := ctx.Value(recorderKey{}).(*Recorder); ok {
		r.stale.Store(true)
		r.record(RefreshHit)
	}
}

type ttlKey struct{}

// WithTTL returns a context whose Stat and Open calls use t instead of
// Config.TTL: the edge passes the lifetimes of the behavior a request
// matched. Freshness is computed at each lookup from when the Info was
// fetched, so behaviors with different TTLs share one entry.
func WithTTL(ctx context.Context, t TTL) context.Context {
	return context.WithValue(ctx, ttlKey{}, t)
}
