package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

// parseDuration reads a lifetime as users type it: Go durations ("90s",
// "15m", "12h", "1h30m") and whole days and years ("30d", "1y", "1d12h"),
// where d is 24h and y is 365d. Days and years come first when combined.
// Negative values parse; callers decide what they accept.
func parseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a duration such as 90s, 15m, 12h, 30d or 1y", s)
	var total time.Duration
	rest := s
	for {
		i := 0
		for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || (rest[i] != 'd' && rest[i] != 'y') {
			break
		}
		unit := 24 * time.Hour
		if rest[i] == 'y' {
			unit *= 365
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil || n > int64((math.MaxInt64-total)/unit) {
			return 0, fmt.Errorf("%q is too long", s)
		}
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	if rest == "" {
		if total == 0 && s == "" {
			return 0, bad
		}
		return total, nil
	}
	d, err := time.ParseDuration(rest)
	if err != nil {
		return 0, bad
	}
	if d > 0 && total > math.MaxInt64-d {
		return 0, fmt.Errorf("%q is too long", s)
	}
	return total + d, nil
}

// parseTime reads an instant: RFC 3339 ("2026-01-01T18:00:00Z") or Unix
// seconds ("1767290400"). Thirteen or more digits are refused as
// milliseconds, the usual JavaScript mistake (§7).
func parseTime(s string) (time.Time, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		if len(s) >= 13 {
			return time.Time{}, fmt.Errorf("%s looks like milliseconds; give Unix seconds (10 digits)", s)
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: %w", s, err)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time (2026-01-01T18:00:00Z) or Unix seconds", s)
	}
	return t.UTC(), nil
}

// splitURL cuts a URL into the facts a request carries: the scheme (lower
// case, as the edge knows it from the connection), the host as written, and
// the request target, sliced from the string byte for byte (§4.1, §13). It
// never parses and re-encodes: the signature covers bytes. A fragment is
// dropped, since browsers never send it.
func splitURL(raw string) (scheme, host, target string, err error) {
	scheme, host, target, ok := cfsign.SplitURL(raw)
	if !ok {
		return "", "", "", errors.New("URL must be absolute, starting with https:// or http://")
	}
	scheme = strings.ToLower(scheme)
	if scheme != "https" && scheme != "http" {
		return "", "", "", fmt.Errorf("URL scheme %q is not http or https", scheme)
	}
	target, _, _ = strings.Cut(target, "#")
	switch {
	case target == "":
		target = "/"
	case target[0] == '?':
		target = "/" + target // what a browser sends for https://h?q
	}
	switch {
	case host == "":
		return "", "", "", errors.New("URL has no host")
	case strings.Contains(host, "@"):
		return "", "", "", errors.New("URL has user info (user@host), which browsers never send; remove it")
	}
	return scheme, host, target, nil
}

// cookieHeader accepts a Cookie header value, tolerating a pasted "Cookie:"
// or "Set-Cookie:" prefix (Set-Cookie attributes such as Path are not
// CloudFront-* cookies, so they are ignored).
func cookieHeader(s string) string {
	s = strings.TrimSpace(s)
	for _, p := range []string{"cookie:", "set-cookie:"} {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			return strings.TrimSpace(s[len(p):])
		}
	}
	return s
}

// relative says how far t is from now: "in 4h59m", "3m ago" or "now".
func relative(t, now time.Time) string {
	d := t.Sub(now).Truncate(time.Second)
	switch {
	case d > 0:
		return "in " + human(d)
	case d < 0:
		return human(-d) + " ago"
	}
	return "now"
}

// human writes a positive duration with its two largest units: "4h59m",
// "3m", "2d4h", "42s".
func human(d time.Duration) string {
	type unit struct {
		size time.Duration
		name string
	}
	units := []unit{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	for i, u := range units {
		if d < u.size && i < len(units)-1 {
			continue
		}
		s := strconv.FormatInt(int64(d/u.size), 10) + u.name
		if i+1 < len(units) {
			next := units[i+1]
			if n := (d % u.size) / next.size; n > 0 {
				s += strconv.FormatInt(int64(n), 10) + next.name
			}
		}
		return s
	}
	return "0s"
}

// field writes one aligned "label: value" line.
func field(b *strings.Builder, label, value string) {
	fmt.Fprintf(b, "%-12s%s\n", label+":", value)
}

// timeAndRelative writes an instant as UTC RFC 3339 and its distance from
// now: "2026-01-01T18:00:00Z (in 4h59m)".
func timeAndRelative(t, now time.Time) string {
	return t.UTC().Format(time.RFC3339) + " (" + relative(t, now) + ")"
}

// indentJSON pretty-prints JSON for display, indented by two spaces and
// ending in a newline; bytes
// that are not JSON come back as they are. It re-indents only: key order
// and duplicates are shown as received.
func indentJSON(b []byte) string {
	var buf bytes.Buffer
	buf.WriteString("  ")
	if err := json.Indent(&buf, b, "  ", "  "); err != nil {
		return "  " + string(b) + "\n"
	}
	buf.WriteByte('\n')
	return buf.String()
}
