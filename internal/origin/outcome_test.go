package origin_test

import (
	"testing"

	"github.com/signet-dev/signet/internal/origin"
)

func TestOutcomeString(t *testing.T) {
	for o, want := range map[origin.Outcome]string{
		origin.NoOutcome: "", origin.Hit: "Hit", origin.RefreshHit: "RefreshHit", origin.Miss: "Miss", origin.Error: "Error",
	} {
		if got := o.String(); got != want {
			t.Errorf("Outcome(%d).String() = %q; want %q", o, got, want)
		}
	}
}

// TestRecorder: the worst outcome recorded counts, a stale Info is a
// RefreshHit, and a context without a Recorder records nothing.
func TestRecorder(t *testing.T) {
	origin.Record(t.Context(), origin.Miss) // no Recorder: nothing happens
	var r origin.Recorder
	ctx := origin.WithRecorder(t.Context(), &r)
	if got := r.Outcome(); got != origin.NoOutcome {
		t.Errorf("new Recorder: Outcome() = %v; want NoOutcome", got)
	}
	for _, step := range []struct{ record, want origin.Outcome }{
		{origin.Hit, origin.Hit},
		{origin.Miss, origin.Miss},
		{origin.RefreshHit, origin.Miss},
		{origin.Error, origin.Error},
		{origin.Hit, origin.Error},
	} {
		origin.Record(ctx, step.record)
		if got := r.Outcome(); got != step.want {
			t.Errorf("after Record(%v): Outcome() = %v; want %v", step.record, got, step.want)
		}
	}
	var s origin.Recorder
	origin.RecordStale(origin.WithRecorder(t.Context(), &s))
	if s.Outcome() != origin.RefreshHit || !s.Stale() {
		t.Errorf("after RecordStale: Outcome() = %v, Stale() = %v; want RefreshHit, true", s.Outcome(), s.Stale())
	}
}
