// Package health marks an origin down when it stops answering, so that the
// edge stops waiting for it, and up again when it answers.
//
// A call that finds the origin unreachable (an error matching
// origin.ErrUnreachable: the connection refused, reset or timed out, no
// response within the origin's timeout) marks it down, unless the origin
// answered another call while that one waited: then the failure is the
// call's own (one URL that never answers, one reset connection), and the
// origin stays up. An answer of any kind, a 404 or a 500 included, is not
// a failure, and neither is a caller's cancellation. While the origin is
// down, Stat, Open and Get return at once, without asking it, an error
// matching origin.ErrDown and the failure that marked it down: the edge
// cache serves what it may serve stale, and the edge answers the rest as
// that failure deserves (502, or 504 for a timeout). A probe, one Stat of
// the last key the origin answered for (or, if it never answered, of the
// key whose call failed), runs Config.Probe after the failure and then
// every Config.Probe until the origin answers; the first answer marks it
// up.
//
// This is a passive check, like nginx's max_fails (which nginx applies
// only to an upstream of several servers), with an active probe instead
// of a fixed fail_timeout, as Varnish's backend probes and Envoy's outlier
// detection do: a down origin costs one probe per interval rather than a
// timeout per viewer, and it is back in use within an interval of
// answering again.
package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signet-dev/signet/internal/origin"
)

// DefaultProbe is how often a down origin is probed when Config.Probe is 0.
const DefaultProbe = time.Second

// Config tunes an Origin.
type Config struct {
	// Probe is how long after the failure that marks the origin down the
	// first probe starts, and how long after each failed probe the next
	// one does; 0 means DefaultProbe. A probe takes at most the origin's
	// own timeout.
	Probe time.Duration
}

// Origin is an origin.Origin that fails at once while the origin it wraps
// is down (see the package documentation). Its methods are safe for
// concurrent use. Close stops its probe.
type Origin struct {
	next  origin.Origin
	probe time.Duration
	log   *slog.Logger

	down atomic.Pointer[outage] // nil while up

	// What the origin last answered: when (time since epoch, monotonic)
	// and for which key, the probe's key.
	epoch      time.Time
	answeredAt atomic.Int64
	answered   atomic.Pointer[string]

	mu     sync.Mutex // held for transitions and Close
	closed bool
	ctx    context.Context // the probe's; ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var (
	_ origin.Origin = (*Origin)(nil)
	_ origin.Getter = (*Origin)(nil)
)

// outage is what is known of the origin while it is down.
type outage struct {
	since time.Time
	key   string // what the probe asks for
	err   error  // what calls get: origin.ErrDown and the last failure
}

// now is the time since o.epoch, from the monotonic clock.
func (o *Origin) now() int64 { return int64(time.Since(o.epoch)) }

func newOutage(since time.Time, key string, cause error) *outage {
	return &outage{
		since: since,
		key:   key,
		err:   fmt.Errorf("%w since %s: %w", origin.ErrDown, since.UTC().Format(time.RFC3339), cause),
	}
}

// New returns next behind a health check, up. A nil logger discards the
// logs: one line when the origin goes down, at Error, and one when it is
// back up, at Info.
func New(next origin.Origin, cfg Config, logger *slog.Logger) (*Origin, error) {
	if cfg.Probe < 0 {
		return nil, fmt.Errorf("health: Probe: %v is negative", cfg.Probe)
	}
	if cfg.Probe == 0 {
		cfg.Probe = DefaultProbe
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o := &Origin{next: next, probe: cfg.Probe, log: logger, epoch: time.Now()}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	return o, nil
}

// Up reports whether the origin is in use: false from a call that found
// it unreachable until a probe gets an answer.
func (o *Origin) Up() bool { return o.down.Load() == nil }

// Stat asks next, unless the origin is down.
func (o *Origin) Stat(ctx context.Context, key string) (origin.Info, error) {
	if d := o.down.Load(); d != nil {
		return origin.Info{}, d.err
	}
	start := o.now()
	info, err := o.next.Stat(ctx, key)
	o.observe(key, start, err)
	return info, err
}

// Open asks next, unless the origin is down.
func (o *Origin) Open(ctx context.Context, info origin.Info, off, n int64) (io.ReadCloser, error) {
	if d := o.down.Load(); d != nil {
		return nil, d.err
	}
	start := o.now()
	rc, err := o.next.Open(ctx, info, off, n)
	o.observe(info.Key, start, err)
	return rc, err
}

// Get asks next, unless the origin is down: next's Get if it is an
// origin.Getter, else its Stat (origin.Get).
func (o *Origin) Get(ctx context.Context, key string, n int64) (origin.Info, io.ReadCloser, error) {
	if d := o.down.Load(); d != nil {
		return origin.Info{}, nil, d.err
	}
	start := o.now()
	info, rc, err := origin.Get(ctx, o.next, key, n)
	o.observe(key, start, err)
	return info, rc, err
}

// observe notes err, the result of a call for key that started at start
// (o.now()): an answer, or a failure that marks the origin down.
func (o *Origin) observe(key string, start int64, err error) {
	switch {
	case err == nil || !errors.Is(err, origin.ErrUnreachable) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
		o.answeredAt.Store(o.now())
		if k := o.answered.Load(); k == nil || *k != key {
			o.answered.Store(&key)
		}
		return
	case !errors.Is(err, origin.ErrUnreachable):
		return // the caller gave up: nothing is known of the origin
	case o.answeredAt.Load() > start:
		return // the origin answered another call meanwhile: this one's failure is its own
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || o.down.Load() != nil {
		return // a call that started before the outage was noticed
	}
	probe := key
	if k := o.answered.Load(); k != nil {
		probe = *k
	}
	o.down.Store(newOutage(time.Now(), probe, err))
	o.log.Error("origin down", "reason", err.Error(), "path", key, "probe", o.probe.String())
	o.wg.Go(o.probing)
}

// probing probes the origin until it answers, or Close.
func (o *Origin) probing() {
	t := time.NewTimer(o.probe)
	defer t.Stop()
	for {
		select {
		case <-o.ctx.Done():
			return
		case <-t.C:
		}
		d := o.down.Load()
		_, err := o.next.Stat(o.ctx, d.key)
		if o.ctx.Err() != nil {
			return
		}
		o.mu.Lock()
		if !errors.Is(err, origin.ErrUnreachable) {
			o.down.Store(nil)
			o.log.Info("origin up", "down_for", time.Since(d.since).Round(time.Millisecond).String())
			o.mu.Unlock()
			return
		}
		o.down.Store(newOutage(d.since, d.key, err))
		o.mu.Unlock()
		t.Reset(o.probe)
	}
}

// Close stops the probe, if one runs, and waits for it. The origin keeps
// answering calls as before.
func (o *Origin) Close() error {
	o.mu.Lock()
	o.closed = true
	o.cancel()
	o.mu.Unlock()
	o.wg.Wait()
	return nil
}
