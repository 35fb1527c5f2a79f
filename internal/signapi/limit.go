package signapi

import (
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiters holds one token bucket per API token, in memory: a restart
// refills every bucket. Its methods may be called concurrently.
type limiters struct {
	m sync.Map // token id -> *rate.Limiter
}

// allow takes one request from tok's bucket at now. When the bucket is
// empty it returns a 429 with Retry-After in whole seconds (at least 1).
func (l *limiters) allow(tok Token, now time.Time) error {
	if tok.Rate.PerSecond == 0 {
		return nil
	}
	v, ok := l.m.Load(tok.ID)
	if !ok {
		v, _ = l.m.LoadOrStore(tok.ID, rate.NewLimiter(rate.Limit(tok.Rate.PerSecond), tok.Rate.Burst))
	}
	lim := v.(*rate.Limiter)
	r := lim.ReserveN(now, 1)
	if !r.OK() { // a burst below 1, which Create refuses
		return &apiError{code: codeRateLimited, cause: fmt.Errorf("token %s: burst %d", tok.ID, tok.Rate.Burst), retryAfter: 1}
	}
	d := r.DelayFrom(now)
	if d == 0 {
		return nil
	}
	r.CancelAt(now)
	return &apiError{
		code:       codeRateLimited,
		cause:      fmt.Errorf("token %s: bucket empty for %v", tok.ID, d),
		retryAfter: int(max(1, math.Ceil(d.Seconds()))),
	}
}
