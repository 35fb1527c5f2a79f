package cache

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/origin"
)

// TTL is how long a behavior lets the cache answer Stat without asking the
// origin, with CloudFront's rules: Default when the origin sends no
// lifetime, the origin's lifetime clamped to [Min, Max] otherwise. A
// behavior with Max 0 revalidates every Stat; bodies are still cached,
// since they are keyed by ETag.
type TTL struct {
	Default, Min, Max time.Duration
}

// Lifetime returns how long info, fetched at now, stays fresh under t, and
// whether the cache may keep it (and its body) at all.
//
// The origin's lifetime is Cache-Control's s-maxage, else its max-age, else
// Expires minus now (an Expires that does not parse is already past), else
// t.Default. no-store, no-cache and private make it 0. The result is then
// clamped to [t.Min, t.Max], so a Min above 0 caches even a no-store
// response for Min, as CloudFront does. With Min 0, no-store and private
// keep nothing: the Info and the body pass through uncached.
func (t TTL) Lifetime(info origin.Info, now time.Time) (time.Duration, bool) {
	return t.lifetime(parseDirectives(info, now), now)
}

// lifetime is Lifetime for directives already parsed from a response
// fetched at fetched.
func (t TTL) lifetime(d directives, fetched time.Time) (time.Duration, bool) {
	var life time.Duration
	switch {
	case d.sMaxAge >= 0:
		life = d.sMaxAge
	case d.maxAge >= 0:
		life = d.maxAge
	case d.hasExpires:
		life = max(d.expires.Sub(fetched), 0)
	default:
		life = t.Default
	}
	if d.noStore || d.noCache || d.private {
		life = 0
	}
	life = min(max(life, t.Min), t.Max)
	store := !(d.noStore || d.private) || t.Min > 0
	return life, store
}

// directives are the parts of an origin's Cache-Control and Expires the
// cache acts on. Durations are -1 when absent.
type directives struct {
	maxAge, sMaxAge, staleIfError time.Duration

	noStore, noCache, private bool
	// mustRevalidate is must-revalidate or proxy-revalidate: never serve
	// the response stale (RFC 9111, section 4.2.4).
	mustRevalidate bool

	hasExpires bool
	expires    time.Time // when hasExpires; the zero time if it did not parse
}

// parseDirectives reads info's Cache-Control and Expires. Directive names
// are case-insensitive; an unknown directive is ignored; a repeated one
// counts with its smallest value; a delta-seconds that does not parse is 0
// (the response is stale). no-cache and private with field names apply to
// those header fields only, which the cache does not keep, so they are
// ignored.
func parseDirectives(info origin.Info, now time.Time) directives {
	d := directives{maxAge: -1, sMaxAge: -1, staleIfError: -1}
	for rest := info.CacheControl; rest != ""; {
		var item string
		item, rest, _ = strings.Cut(rest, ",")
		name, value, hasValue := strings.Cut(strings.TrimSpace(item), "=")
		name = strings.TrimSpace(name)
		value = strings.Trim(strings.TrimSpace(value), `"`)
		switch {
		case strings.EqualFold(name, "max-age"):
			d.maxAge = minDelta(d.maxAge, value)
		case strings.EqualFold(name, "s-maxage"):
			d.sMaxAge = minDelta(d.sMaxAge, value)
		case strings.EqualFold(name, "stale-if-error"):
			d.staleIfError = minDelta(d.staleIfError, value)
		case strings.EqualFold(name, "no-store"):
			d.noStore = true
		case strings.EqualFold(name, "no-cache"):
			d.noCache = d.noCache || !hasValue
		case strings.EqualFold(name, "private"):
			d.private = d.private || !hasValue
		case strings.EqualFold(name, "must-revalidate"), strings.EqualFold(name, "proxy-revalidate"):
			d.mustRevalidate = true
		}
	}
	if info.Expires != "" && d.maxAge < 0 && d.sMaxAge < 0 {
		d.hasExpires = true
		if t, err := http.ParseTime(info.Expires); err == nil {
			d.expires = t
		} else {
			d.expires = now // RFC 9111, section 5.3: an invalid date is in the past
		}
	}
	return d
}

// maxDelta caps delta-seconds at 2^31 seconds, as RFC 9111 asks a cache to
// treat any larger value.
const maxDelta = math.MaxInt32 * time.Second

// minDelta parses delta-seconds s and returns the smaller of it and prev
// (when prev >= 0). A value that does not parse is 0.
func minDelta(prev time.Duration, s string) time.Duration {
	var v time.Duration
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		v = time.Duration(min(n, math.MaxInt32)) * time.Second
	} else if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange && s[0] != '-' {
		v = maxDelta
	}
	if prev >= 0 && prev < v {
		return prev
	}
	return v
}

// storable reports whether the cache may keep the body of info under t,
// without the cost of parsing Expires: only no-store and private matter.
func (t TTL) storable(info origin.Info) bool {
	if info.CacheControl == "" || t.Min > 0 {
		return true
	}
	d := parseDirectives(origin.Info{CacheControl: info.CacheControl}, time.Time{})
	return !d.noStore && !d.private
}
