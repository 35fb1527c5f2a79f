package cli

import (
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"time"
)

// writeJSON is the one writer of every --json output: two-space
// indentation, a trailing newline, and no HTML escaping (URLs keep their
// '&'). Instants in output types are jsonTime, durations jsonDuration, so
// every command writes them the same way.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jsonTime is an instant in --json output: RFC 3339 in UTC, whole seconds
// ("2026-01-01T18:00:00Z"). Use it with omitzero to leave out a zero time.
type jsonTime time.Time

func (t jsonTime) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format(time.RFC3339)), nil
}

// IsZero reports whether t is the zero time (for omitzero).
func (t jsonTime) IsZero() bool { return time.Time(t).IsZero() }

// jsonDuration is a duration in --json output, as Go writes it ("1h0m0s",
// "720h0m0s"): what every duration flag and the config file read back.
type jsonDuration time.Duration

func (d jsonDuration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

// internalPrefix matches the package prefix of an error from one of
// signet's packages ("cfsign: ", "keyfile: ") where it begins a message or
// follows another's ": ". Sentinel errors carry them (STYLE.md) so that
// logs say where a failure came from; a CLI user needs only the message.
// One pass: a wrapper that names its part the same way ("cache: " around
// "cache: disk dir: ...") keeps one of the two.
var internalPrefix = regexp.MustCompile(`(^|: )(` + strings.Join(errorPrefixes, "|") + `): `)

// errorPrefixes are the prefixes signet's packages put on their errors:
// each package's name, "<kind> origin" for the origin implementations, and
// zero-config's "bootstrap". TestErrorPrefixes holds the list to the
// packages under internal/.
var errorPrefixes = []string{
	"access", "cache", "cfsign", "cli", "config", "edge", "fasthttp", "health", "keyfile",
	"keysource", "lambdafn", "nethttp", "origin", "server", "signapi", "version",
	"state", "sqldb", "sqlite", "postgres",
	"dir origin", "http origin", "s3 origin",
	"bootstrap",
}

// userText is an error message as a CLI user reads it: on one line,
// without internal package prefixes.
func userText(s string) string {
	return internalPrefix.ReplaceAllString(oneLine(s), "$1")
}
