package origin

import (
	"context"
	"sync/atomic"
)

// Outcome says how an origin that caches (the edge cache, package cache)
// answered, in CloudFront's X-Cache terms. When one request makes several
// calls (a Stat, then one Open per range), the worst counts, in the order
// of the constants: an Error outweighs a Miss, which outweighs a
// RefreshHit, which outweighs a Hit.
type Outcome uint32

const (
	// NoOutcome means no call of an origin that caches was recorded.
	NoOutcome Outcome = iota
	// Hit: served from the cache without asking the origin.
	Hit
	// RefreshHit: the cached Info had expired and the origin confirmed
	// it (same ETag), or the origin failed and a stale Info was served
	// (stale-if-error; Recorder.Stale says which).
	RefreshHit
	// Miss: the origin was asked and its answer, or some body bytes, came
	// from it.
	Miss
	// Error: the call failed, including for an object the origin does not
	// have.
	Error
)

// String returns the X-Cache word for o: "Hit", "RefreshHit", "Miss" or
// "Error", and "" for NoOutcome. CloudFront sends it followed by " from
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

// A Recorder learns the outcome of the calls made with a context from
// WithRecorder to an origin that caches: the edge puts one in the context
// of each request to a distribution with an edge cache, calls Stat and
// Open, and sets X-Cache from Outcome. Such an origin decides the outcome
// of Open before Open returns, so the header can be written before the
// body. Origins that do not cache record nothing. The zero Recorder is
// ready; its methods are safe for concurrent use.
type Recorder struct {
	outcome atomic.Uint32
	stale   atomic.Bool
}

// Outcome returns the worst outcome recorded so far, or NoOutcome.
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

// WithRecorder returns a context in which the calls of an origin that
// caches record their outcomes on r.
func WithRecorder(ctx context.Context, r *Recorder) context.Context {
	return context.WithValue(ctx, recorderKey{}, r)
}

// Record notes o on the Recorder of ctx, if it has one. An origin that
// caches calls it once per Stat and Open.
func Record(ctx context.Context, o Outcome) {
	if r, ok := ctx.Value(recorderKey{}).(*Recorder); ok {
		r.record(o)
	}
}

// RecordStale notes on the Recorder of ctx, if it has one, that a stale
// Info was served because the origin failed: a RefreshHit.
func RecordStale(ctx context.Context) {
	if r, ok := ctx.Value(recorderKey{}).(*Recorder); ok {
		r.stale.Store(true)
		r.record(RefreshHit)
	}
}
