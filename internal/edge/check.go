package edge

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The checks of what an Edge is built from. New applies them, and the
// config file's validation calls them with the field path, so that what
// `signet config validate` accepts is what the edge serves (STYLE.md, "One
// rule, one place"). Their errors say what is wrong in words for the
// config file and have no package prefix; those about a duration or a size
// leave the value out, for the caller to write it as its user wrote it.

// Limits of a behavior.
const (
	// MaxPatternLength is CloudFront's limit on a path pattern, in bytes.
	MaxPatternLength = 255
	// MinRedirectTTL and MaxRedirectTTL bound a presigned URL's lifetime
	// in redirect mode: S3's expiry is whole seconds, and at most 7 days.
	MinRedirectTTL = time.Second
	MaxRedirectTTL = 7 * 24 * time.Hour
)

// The values a behavior's settings take, in the order messages list them.
// They are the edge's vocabulary, which the config file shares; callers
// must not modify them.
var (
	// Methods are the methods a behavior may allow, in the order of the
	// Allow header.
	Methods = []string{"GET", "HEAD", "OPTIONS"}
	// DefaultMethods are the methods a behavior allows when it names
	// none, and those it must allow: CloudFront's method sets all hold
	// them.
	DefaultMethods = []string{"GET", "HEAD"}
	// ViewerProtocols are the values of Behavior.ViewerProtocol.
	ViewerProtocols = []string{AllowAll, HTTPSOnly, RedirectToHTTPS}
	// Modes are the values of Behavior.Mode.
	Modes = []string{ModeProxy, ModeRedirect}
)

// MaxNameLength is the longest name of a distribution, in bytes.
const MaxNameLength = 64

// NotOneOfError is the error of a setting whose value is none of those it
// can take. The config file's validation names the closest of Values in
// its message.
type NotOneOfError struct {
	Value  string   // the value given
	Values []string // the values it can take, in the order to list them
}

// Error says the value and lists those it can take.
func (e *NotOneOfError) Error() string {
	return fmt.Sprintf("%s is not one of %s", strconv.Quote(e.Value), strings.Join(e.Values, ", "))
}

// oneOf returns nil when s is one of values, else a *NotOneOfError.
func oneOf(s string, values []string) error {
	if slices.Contains(values, s) {
		return nil
	}
	return &NotOneOfError{Value: s, Values: values}
}

// CheckName reports whether names[k], the name of the k-th of an Edge's
// distributions in order, can name it in logs and metric labels: 1 to
// MaxNameLength ASCII letters, digits, '-' and '_', and not the name of an
// earlier distribution.
func CheckName(names []string, k int) error {
	name := names[k]
	ok := name != "" && len(name) <= MaxNameLength
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
	}
	if !ok {
		return fmt.Errorf("a distribution name is 1 to %d letters, digits, '-' and '_'", MaxNameLength)
	}
	if j := slices.Index(names[:k], name); j >= 0 {
		return fmt.Errorf("%s is also the name of distributions[%d]", strconv.Quote(name), j)
	}
	return nil
}

// CheckDefault reports whether distribution i, of distributions whose
// Hosts are hosts in order, can be what it is: one without hosts is the
// default, which answers for every other host, and there is at most one.
func CheckDefault(hosts [][]string, i int) error {
	if len(hosts[i]) > 0 {
		return nil
	}
	for j, other := range hosts[:i] {
		if len(other) == 0 {
			return fmt.Errorf("only one distribution may leave hosts empty (any host); distributions[%d] does already", j)
		}
	}
	return nil
}

// CheckHostOnce reports whether hosts[i][j], host j of distribution i of
// distributions whose Hosts are hosts in order, is its first entry: a
// host belongs to one distribution, and is listed once. Each host is
// checked by CheckHost.
func CheckHostOnce(hosts [][]string, i, j int) error {
	h := hosts[i][j]
	for di, dh := range hosts[:i+1] {
		if di == i {
			dh = dh[:j]
		}
		if dj := slices.Index(dh, h); dj >= 0 {
			return fmt.Errorf("%s is also distributions[%d].hosts[%d]: a host belongs to one distribution", strconv.Quote(h), di, dj)
		}
	}
	return nil
}

// CheckMethod reports whether methods[k], one of a behavior's allowed
// methods in order, can be: one of Methods (else the error is a
// *NotOneOfError), and not one an earlier element names. The set as a
// whole is checked by CheckMethods.
func CheckMethod(methods []string, k int) error {
	m := methods[k]
	if err := oneOf(m, Methods); err != nil {
		return err
	}
	if j := slices.Index(methods[:k], m); j >= 0 {
		return fmt.Errorf("%s repeats allowed_methods[%d]", m, j)
	}
	return nil
}

// CheckMethods reports whether methods, a behavior's allowed methods,
// hold DefaultMethods; each element is checked by CheckMethod.
func CheckMethods(methods []string) error {
	if len(methods) == 0 {
		return errors.New("required: [GET, HEAD] or [GET, HEAD, OPTIONS]")
	}
	var missing []string
	for _, m := range DefaultMethods {
		if !slices.Contains(methods, m) {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("must include %s (CloudFront's method sets always do)", strings.Join(missing, " and "))
	}
	return nil
}

// CheckViewerProtocol reports whether p is one of ViewerProtocols; the
// error is a *NotOneOfError.
func CheckViewerProtocol(p string) error { return oneOf(p, ViewerProtocols) }

// CheckMode reports whether m is one of Modes; the error is a
// *NotOneOfError.
func CheckMode(m string) error { return oneOf(m, Modes) }

// CheckPathPattern reports whether p can be a behavior's path pattern:
// "*" for every path, or a raw request path that starts with '/' in which
// '*' matches any run of bytes, '/' included. It is at most
// MaxPatternLength bytes of printable ASCII: a byte a request path only
// carries percent-encoded (a space, a control character, '#' or a
// non-ASCII character) is written percent-encoded, as the path carries it.
// '?' is refused: patterns match the path only, and have no one-byte
// wildcard. So is '\', which the edge refuses in every path.
func CheckPathPattern(p string) error {
	switch {
	case p == "":
		return errors.New("required: a pattern such as /videos/*, or * for every path")
	case len(p) > MaxPatternLength:
		return fmt.Errorf("longer than %d bytes (CloudFront's limit)", MaxPatternLength)
	case p != "*" && !strings.HasPrefix(p, "/"):
		return fmt.Errorf("%s must start with '/', or be \"*\" for every path", strconv.Quote(p))
	case strings.Contains(p, "?"):
		return fmt.Errorf("%s: patterns match the path only, and '?' is not a wildcard here", strconv.Quote(p))
	}
	for _, c := range []byte(p) {
		switch {
		case c <= ' ' || c == 0x7f:
			return fmt.Errorf("%s holds a space or control character (write it percent-encoded, as in URLs)", strconv.Quote(p))
		case c >= 0x80:
			return fmt.Errorf("%s holds a non-ASCII character (write it percent-encoded, as in URLs)", strconv.Quote(p))
		case c == '#':
			return fmt.Errorf("%s holds '#', which ends a URL's path (write it percent-encoded, %%23)", strconv.Quote(p))
		case c == '\\':
			return fmt.Errorf("%s holds a backslash, which the edge refuses in every path", strconv.Quote(p))
		}
	}
	return nil
}

// CheckReachable reports whether patterns[k], one of a distribution's
// behaviors' patterns in order, can ever match: not when an earlier one
// is the same pattern or "*", which takes every path first.
func CheckReachable(patterns []string, k int) error {
	for j, prev := range patterns[:k] {
		switch {
		case prev == patterns[k]:
			return fmt.Errorf("never matches: behaviors[%d] has the same pattern and comes first", j)
		case prev == "*":
			return fmt.Errorf("never matches: behaviors[%d] (\"*\") comes first and matches every path", j)
		}
	}
	return nil
}

// CheckRedirectTTL reports whether d can be the lifetime of redirect
// mode's presigned URLs: from MinRedirectTTL to MaxRedirectTTL. The error
// says why without repeating d.
func CheckRedirectTTL(d time.Duration) error {
	switch {
	case d <= 0 || d > MaxRedirectTTL:
		return errors.New("outside (0s, 7d]: S3 presigned URLs live at most 7 days")
	case d < MinRedirectTTL:
		return errors.New("below 1s: a presigned URL's lifetime is whole seconds")
	}
	return nil
}

// CheckHost reports whether h can be one of a distribution's hosts, as a
// viewer sends it in Host: a lower-case DNS name (CheckHostName), an IPv4
// address or a bracketed IPv6 address, optionally with a port from 1 to
// 65535.
func CheckHost(h string) error {
	if h != strings.ToLower(h) {
		return fmt.Errorf("%s must be lower case: %s", strconv.Quote(h), strconv.Quote(strings.ToLower(h)))
	}
	host := h
	if name, port, err := net.SplitHostPort(h); err == nil {
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 || strconv.FormatUint(n, 10) != port {
			return fmt.Errorf("%s: the port must be a number from 1 to 65535", strconv.Quote(h))
		}
		host = name
		if strings.Contains(name, ":") { // IPv6: SplitHostPort took the brackets off
			return checkIPv6(h, name)
		}
	} else if v6, ok := strings.CutPrefix(h, "["); ok && strings.HasSuffix(v6, "]") {
		return checkIPv6(h, strings.TrimSuffix(v6, "]"))
	}
	if strings.Contains(host, "*") {
		return fmt.Errorf("%s: wildcards are not supported; list each host, or leave hosts empty for any host", strconv.Quote(h))
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !a.Is4() {
			return fmt.Errorf("%s: write an IPv6 address in brackets, [::1]", strconv.Quote(h))
		}
		return nil
	}
	if err := CheckHostName(host); err != nil {
		return fmt.Errorf("%s: %w", strconv.Quote(h), err)
	}
	return nil
}

// checkIPv6 checks addr, the address between the brackets of host, for
// CheckHost: an IPv6 address without a zone.
func checkIPv6(host, addr string) error {
	if a, err := netip.ParseAddr(addr); err != nil || !a.Is6() || a.Zone() != "" {
		return fmt.Errorf("%s is not a host[:port]", strconv.Quote(host))
	}
	return nil
}

// CheckHostName reports whether s is a lower-case DNS name: dot-separated
// labels of a-z, 0-9 and '-', each 1 to 63 bytes and not starting or
// ending with '-', 253 bytes in all. A trailing dot is refused (Host
// headers omit it), and so is an IP address.
func CheckHostName(s string) error {
	switch {
	case s == "":
		return errors.New("empty host name")
	case len(s) > 253:
		return errors.New("host name longer than 253 bytes")
	case s != strings.ToLower(s):
		return fmt.Errorf("%s must be lower case: %s", strconv.Quote(s), strconv.Quote(strings.ToLower(s)))
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return fmt.Errorf("%s is an IP address, not a host name", strconv.Quote(s))
	}
	for label := range strings.SplitSeq(s, ".") {
		ok := label != "" && len(label) <= 63 && label[0] != '-' && label[len(label)-1] != '-'
		for i := 0; ok && i < len(label); i++ {
			c := label[i]
			ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-'
		}
		if !ok {
			return fmt.Errorf("%s is not a host name (labels of a-z, 0-9 and '-', separated by dots)", strconv.Quote(s))
		}
	}
	return nil
}
