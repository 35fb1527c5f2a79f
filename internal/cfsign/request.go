package cfsign

import "strings"

// Mode says where a request's signing credentials came from (§8).
type Mode int

// The credential modes. Any reserved query parameter makes a request a
// signed-URL request, and its cookies are then ignored.
const (
	ModeNone Mode = iota
	ModeURL
	ModeCookie
)

func (m Mode) String() string {
	switch m {
	case ModeURL:
		return "url"
	case ModeCookie:
		return "cookie"
	}
	return "none"
}

// Credentials are the raw signing values of one request, as received: query
// values and cookie values are not decoded here. Has* tell an absent value
// from an empty one.
type Credentials struct {
	Mode                                          Mode
	KeyID, Signature, Policy, Expires, HashAlg    string
	HasKeyID, HasSignature, HasPolicy, HasExpires bool
	HasHashAlg                                    bool
	// Repeated names a reserved query parameter that appeared more than
	// once (signet, §17 #5: AccessDenied); "" if none did.
	Repeated string
}

// SplitTarget splits a raw request target into its path and query, without
// decoding either.
func SplitTarget(target string) (path, query string) {
	path, query, _ = strings.Cut(target, "?")
	return path, query
}

// IsReserved reports whether name is one of the five reserved query
// parameter names, compared exactly and case-sensitively.
func IsReserved(name string) bool {
	switch name {
	case "Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm":
		return true
	}
	return false
}

// StripQuery removes the signing parameters from a raw query, keeping every
// other element's bytes and order (§4.1 step 4, §12). The name of an element
// is the bytes before its first '=', or the whole element. The result is
// what the origin request and the cache key use, and what a canned resource
// is rebuilt from. It does not allocate when the elements kept are one run
// of the query, as they are when the signing parameters come all first or
// all last.
func StripQuery(query string) string {
	if query == "" {
		return ""
	}
	// One pass to find the kept run, [start, end), and whether a reserved
	// element splits it.
	start, end := -1, 0
	removed, split := false, false
	for off := 0; ; {
		elem, _, more := strings.Cut(query[off:], "&")
		if IsReserved(paramName(elem)) {
			removed = true
		} else {
			if start < 0 {
				start = off
			} else if end < off-1 {
				split = true
				break
			}
			end = off + len(elem)
		}
		if !more {
			break
		}
		off += len(elem) + 1
	}
	switch {
	case !removed:
		return query
	case start < 0:
		return ""
	case !split:
		return query[start:end]
	}
	var b strings.Builder
	b.Grow(len(query))
	kept := 0
	for rest := query; ; {
		elem, tail, more := strings.Cut(rest, "&")
		if !IsReserved(paramName(elem)) {
			if kept > 0 {
				b.WriteByte('&')
			}
			b.WriteString(elem)
			kept++
		}
		if !more {
			break
		}
		rest = tail
	}
	return b.String()
}

// appendStripped appends StripQuery(query) to dst.
func appendStripped(dst []byte, query string) []byte {
	if query == "" {
		return dst
	}
	kept := 0
	for rest := query; ; {
		elem, tail, more := strings.Cut(rest, "&")
		if !IsReserved(paramName(elem)) {
			if kept > 0 {
				dst = append(dst, '&')
			}
			dst = append(dst, elem...)
			kept++
		}
		if !more {
			break
		}
		rest = tail
	}
	return dst
}

// StripTarget returns the request target without its signing parameters,
// dropping the '?' when nothing remains.
func StripTarget(target string) string {
	path, query, ok := strings.Cut(target, "?")
	if !ok {
		return target
	}
	q := StripQuery(query)
	if q == "" {
		return path
	}
	if len(q) == len(query) {
		return target
	}
	return path + "?" + q
}

func paramName(elem string) string {
	name, _, _ := strings.Cut(elem, "=")
	return name
}

// ParseCredentials finds the signing values of a request (§13 step 3): from
// the query when any reserved name is in it, otherwise from the CloudFront-*
// cookies in the given Cookie header values, where the first occurrence of a
// name wins (browsers send the longest path first).
func ParseCredentials(rawQuery string, cookieHeaders []string) Credentials {
	var c Credentials
	for rest := rawQuery; rest != ""; {
		var elem string
		elem, rest, _ = strings.Cut(rest, "&")
		name, value, _ := strings.Cut(elem, "=")
		if !IsReserved(name) {
			continue
		}
		c.Mode = ModeURL
		if !c.set(name, value) && c.Repeated == "" {
			c.Repeated = name
		}
	}
	if c.Mode == ModeURL {
		return c
	}
	for _, h := range cookieHeaders {
		for rest := h; rest != ""; {
			var pair string
			pair, rest, _ = strings.Cut(rest, ";")
			name, value, ok := strings.Cut(trimLeftBlank(pair), "=")
			if !ok || !strings.HasPrefix(name, "CloudFront-") {
				continue
			}
			name, value = trimRightBlank(name), trimRightBlank(value)
			if c.set(name[len("CloudFront-"):], value) {
				c.Mode = ModeCookie
			}
		}
	}
	return c
}

// trimLeftBlank is strings.TrimLeft(s, " \t"), which is slower.
func trimLeftBlank(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

// trimRightBlank is strings.TrimRight(s, " \t").
func trimRightBlank(s string) string {
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// set records a value the first time name is seen and reports whether it did.
func (c *Credentials) set(name, value string) bool {
	var dst *string
	var has *bool
	switch name {
	case "Expires":
		dst, has = &c.Expires, &c.HasExpires
	case "Policy":
		dst, has = &c.Policy, &c.HasPolicy
	case "Signature":
		dst, has = &c.Signature, &c.HasSignature
	case "Key-Pair-Id":
		dst, has = &c.KeyID, &c.HasKeyID
	case "Hash-Algorithm":
		dst, has = &c.HashAlg, &c.HasHashAlg
	default:
		return false
	}
	if *has {
		return false
	}
	*dst, *has = value, true
	return true
}
