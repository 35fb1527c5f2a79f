package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as in Go ("90s", "15m", "1h30m") or
// with whole days in front ("30d", "1d12h"; a day is 24h). Convert with
// time.Duration(d).
type Duration time.Duration

// ParseDuration reads a Duration. A bare "0" is zero; any other number
// needs a unit. Negative values parse; Validate decides what it accepts.
func ParseDuration(s string) (Duration, error) {
	bad := fmt.Errorf("%q is not a duration such as 90s, 15m, 12h or 30d", s)
	rest, neg := s, false
	if r, ok := strings.CutPrefix(rest, "-"); ok {
		rest, neg = r, true
	}
	var days time.Duration
	if i := strings.IndexByte(rest, 'd'); i > 0 {
		n, err := strconv.ParseUint(rest[:i], 10, 64)
		if err != nil {
			return 0, bad
		}
		if n > math.MaxInt64/uint64(24*time.Hour) {
			return 0, fmt.Errorf("%q is too long", s)
		}
		days = time.Duration(n) * 24 * time.Hour
		rest = rest[i+1:]
		if rest == "" {
			if neg {
				days = -days
			}
			return Duration(days), nil
		}
		if rest[0] == '-' || rest[0] == '+' {
			return 0, bad
		}
	}
	d, err := time.ParseDuration(rest)
	if err != nil || (rest != "" && (rest[0] == '-' || rest[0] == '+')) {
		return 0, bad
	}
	if d > math.MaxInt64-days {
		return 0, fmt.Errorf("%q is too long", s)
	}
	d += days
	if neg {
		d = -d
	}
	return Duration(d), nil
}

// String formats d as ParseDuration reads it, with whole days as "d":
// "30d", "1d12h0m0s", "5m0s".
func (d Duration) String() string {
	t := time.Duration(d)
	if t == 0 {
		return "0s"
	}
	sign := ""
	if t < 0 {
		if t == math.MinInt64 {
			return t.String()
		}
		sign, t = "-", -t
	}
	const day = 24 * time.Hour
	days, rem := t/day, t%day
	switch {
	case days == 0:
		return sign + rem.String()
	case rem == 0:
		return fmt.Sprintf("%s%dd", sign, days)
	}
	return fmt.Sprintf("%s%dd%s", sign, days, rem)
}

// MarshalText is String, so a Duration encodes as it decodes.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText is ParseDuration.
func (d *Duration) UnmarshalText(b []byte) error { return unmarshalText(d, b, ParseDuration) }

// unmarshalText sets *dst to what parse reads from b, and leaves it alone
// when parse fails: the UnmarshalText of the config's text types.
func unmarshalText[T any](dst *T, b []byte, parse func(string) (T, error)) error {
	v, err := parse(string(b))
	if err != nil {
		return err
	}
	*dst = v
	return nil
}
