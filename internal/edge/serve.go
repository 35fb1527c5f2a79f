package edge

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/textproto"
	"path"
	"strconv"
	"strings"
	"time"
)

// MaxRanges is the most byte ranges one request may ask for. Each range is
// one origin read, so a Range header with more is ignored and the whole
// object is sent, as nginx's max_ranges does (RFC 9110 §14.2 allows it).
// http.ServeContent has no such limit.
const MaxRanges = 64

// planObject plans the answer of proxy mode from the object's metadata:
// the validators and caching headers, then the preconditions, then the
// ranges. This is the logic of http.ServeContent, written once for every
// adapter and checked against it in the tests.
func (e *Edge) planObject(req *Request, p *Plan, key string, expires time.Time) error {
	info := p.Object
	h := p.Header
	etag := validETag(info.ETag)
	if etag != "" {
		p.set("Etag", etag)
	}
	if !isZeroTime(info.ModTime) {
		p.set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
	}
	e.setCaching(p, info.CacheControl, info.Expires, expires)

	switch preconditions(req, etag, info.ModTime) {
	case http.StatusPreconditionFailed:
		return ErrPreconditionFailed
	case http.StatusNotModified:
		// RFC 9110 §15.4.5, as ServeContent: no representation metadata,
		// and Last-Modified only when there is no ETag.
		if etag != "" {
			h.Del("Last-Modified")
		}
		p.Status, p.Result = http.StatusNotModified, ResultAllow
		return nil
	}

	size := info.Size
	rangeHeader := req.Range
	if rangeHeader != "" && checkIfRange(req.IfRange, etag, info.ModTime) == condFalse {
		rangeHeader = ""
	}
	ranges, err := parseRange(rangeHeader, size)
	switch {
	case errors.Is(err, errNoOverlap) && size == 0:
		// As ServeContent: clients that add Range to every request get
		// the empty object rather than a 416.
		ranges = nil
	case err != nil:
		h.Del("Etag")
		h.Del("Last-Modified")
		if errors.Is(err, errNoOverlap) {
			p.set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		}
		return fmt.Errorf("%w: %q for %d bytes: %w", ErrRangeNotSatisfiable, truncate(rangeHeader, 64), size, err)
	}
	if sumRanges(ranges) > size || len(ranges) > MaxRanges {
		// More bytes than the object, or too many reads: serve it whole.
		ranges = nil
	}

	ctype := contentType(info.ContentType, key)
	p.set("Content-Type", ctype)
	p.set("Accept-Ranges", "bytes")
	p.Result = ResultAllow
	switch {
	case len(ranges) == 1:
		r := ranges[0]
		p.Status, p.Ranges = http.StatusPartialContent, ranges
		p.set("Content-Range", r.contentRange(size))
		p.set("Content-Length", strconv.FormatInt(r.Len, 10))
	case len(ranges) > 1:
		p.Status, p.Ranges = http.StatusPartialContent, ranges
		p.Boundary, p.partType = newBoundary(), ctype
		p.set("Content-Type", "multipart/byteranges; boundary="+p.Boundary)
		p.set("Content-Length", strconv.FormatInt(p.multipartSize(), 10))
	default:
		p.Status = http.StatusOK
		if size > 0 {
			p.Ranges = []ByteRange{{Off: 0, Len: size}}
		}
		p.set("Content-Length", strconv.FormatInt(size, 10))
	}
	if req.Method == http.MethodHead {
		p.Ranges, p.Boundary = nil, ""
	}
	return nil
}

// setCaching sets the viewer caching headers (§12, signet). Public
// responses pass the origin's Cache-Control and Expires through. Responses
// behind a signed link (expires non-zero) are private and cached no longer
// than the link lives: max-age is the policy's remaining lifetime, or the
// origin's max-age if shorter, and an origin's no-store is kept.
func (e *Edge) setCaching(p *Plan, originCC, originExpires string, expires time.Time) {
	originCC, originExpires = headerValue(originCC), headerValue(originExpires)
	if expires.IsZero() {
		if originCC != "" {
			p.set("Cache-Control", originCC)
		}
		if originExpires != "" {
			p.set("Expires", originExpires)
		}
		return
	}
	maxAge := max(int64(expires.Sub(e.now())/time.Second), 0)
	for d := range strings.SplitSeq(originCC, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store":
			p.set("Cache-Control", "no-store")
			return
		case "max-age":
			if n, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64); err == nil && n >= 0 && n < maxAge {
				maxAge = n
			}
		}
	}
	p.set("Cache-Control", "private, max-age="+strconv.FormatInt(maxAge, 10))
}

// contentType is the origin's type, else the one the key's extension
// names, else application/octet-stream. The edge never sniffs content.
func contentType(originType, key string) string {
	if t := headerValue(originType); t != "" {
		return t
	}
	if t := mime.TypeByExtension(path.Ext(key)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// newBoundary returns a random multipart boundary of the form
// multipart.Writer uses (60 hex digits), so that no object's bytes can
// forge one.
func newBoundary() string {
	var b [30]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// isZeroTime reports whether t is unset (zero or the Unix epoch), as
// ServeContent does: such a time is no validator.
func isZeroTime(t time.Time) bool {
	return t.IsZero() || t.Unix() == 0
}

// validETag returns etag if it is one syntactically valid entity tag,
// strong or weak, and "" otherwise, so an origin cannot put arbitrary
// bytes into the ETag header.
func validETag(etag string) string {
	if tag, rest := scanETag(etag); tag == etag && rest == "" {
		return etag
	}
	return ""
}

// The rest of this file follows net/http's fs.go (checkPreconditions and
// parseRange, RFC 9110 §13 and §14) so that the edge answers as
// http.ServeContent does; the tests hold the two side by side.

type cond int

const (
	condNone cond = iota
	condTrue
	condFalse
)

// not is the opposite condition; an absent header stays absent.
func (c cond) not() cond {
	switch c {
	case condTrue:
		return condFalse
	case condFalse:
		return condTrue
	}
	return condNone
}

// preconditions evaluates If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since in the order of RFC 9110 §13.2.2 and returns 412, 304
// or 0 (go on). Only GET and HEAD reach it.
func preconditions(req *Request, etag string, modtime time.Time) int {
	c := checkIfMatch(req.IfMatch, etag)
	if c == condNone {
		c = checkIfUnmodifiedSince(req.IfUnmodifiedSince, modtime)
	}
	if c == condFalse {
		return http.StatusPreconditionFailed
	}
	switch checkIfNoneMatch(req.IfNoneMatch, etag) {
	case condFalse:
		return http.StatusNotModified
	case condNone:
		if checkIfModifiedSince(req.IfModifiedSince, modtime) == condFalse {
			return http.StatusNotModified
		}
	}
	return 0
}

// scanETag finds a syntactically valid entity tag at the start of s,
// returning it and the rest, or "", "".
func scanETag(s string) (etag, rest string) {
	s = textproto.TrimString(s)
	start := 0
	if strings.HasPrefix(s, "W/") {
		start = 2
	}
	if len(s[start:]) < 2 || s[start] != '"' {
		return "", ""
	}
	for i := start + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == 0x21 || c >= 0x23 && c <= 0x7e || c >= 0x80:
		case c == '"':
			return s[:i+1], s[i+1:]
		default:
			return "", ""
		}
	}
	return "", ""
}

func strongMatch(a, b string) bool { return a == b && a != "" && a[0] == '"' }

func weakMatch(a, b string) bool { return strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/") }

// checkETags walks a list of entity tags ("*" or tags separated by commas)
// and reports whether any matches etag; "" means the header is absent.
func checkETags(list, etag string, match func(a, b string) bool) cond {
	if list == "" {
		return condNone
	}
	for {
		list = textproto.TrimString(list)
		if list == "" {
			return condFalse
		}
		if list[0] == ',' {
			list = list[1:]
			continue
		}
		if list[0] == '*' {
			return condTrue
		}
		tag, rest := scanETag(list)
		if tag == "" {
			return condFalse
		}
		if match(tag, etag) {
			return condTrue
		}
		list = rest
	}
}

func checkIfMatch(im, etag string) cond { return checkETags(im, etag, strongMatch) }

// checkIfNoneMatch is condFalse when a tag matches (weakly): the viewer's
// copy is current.
func checkIfNoneMatch(inm, etag string) cond { return checkETags(inm, etag, weakMatch).not() }

// compareDate compares the object's modtime, truncated to the second as
// Last-Modified is, with an HTTP date; ok is false for an absent or
// unparsable date or an unknown modtime.
func compareDate(date string, modtime time.Time) (cmp int, ok bool) {
	if date == "" || isZeroTime(modtime) {
		return 0, false
	}
	t, err := http.ParseTime(date)
	if err != nil {
		return 0, false
	}
	return modtime.Truncate(time.Second).Compare(t), true
}

// checkIfUnmodifiedSince is condTrue when the object is no newer than ius.
func checkIfUnmodifiedSince(ius string, modtime time.Time) cond {
	cmp, ok := compareDate(ius, modtime)
	switch {
	case !ok:
		return condNone
	case cmp <= 0:
		return condTrue
	}
	return condFalse
}

// checkIfModifiedSince is condTrue when the object is newer than ims.
func checkIfModifiedSince(ims string, modtime time.Time) cond {
	return checkIfUnmodifiedSince(ims, modtime).not()
}

// checkIfRange reports whether the Range header applies: If-Range holds
// an entity tag that strongly matches, or the exact Last-Modified date.
func checkIfRange(ir, etag string, modtime time.Time) cond {
	if ir == "" {
		return condNone
	}
	if tag, _ := scanETag(ir); tag != "" {
		if strongMatch(tag, etag) {
			return condTrue
		}
		return condFalse
	}
	if modtime.IsZero() {
		return condFalse
	}
	t, err := http.ParseTime(ir)
	if err != nil || t.Unix() != modtime.Unix() {
		return condFalse
	}
	return condTrue
}

var (
	errNoOverlap    = errors.New("no range overlaps the object")
	errInvalidRange = errors.New("invalid range")
)

// parseRange parses a Range header (RFC 9110 §14.1.2) for an object of
// size bytes, as ServeContent does: a header not starting "bytes=" or an
// invalid range spec is errInvalidRange (416), ranges are kept in the
// order given and neither sorted nor merged, and when no range overlaps the
// object the error is errNoOverlap (416 with Content-Range: bytes */size).
// One difference: a suffix range that selects no bytes ("-0", or any
// suffix of an empty object) is unsatisfiable, like a range starting past
// the end, where ServeContent plans an empty range and sends an invalid
// Content-Range such as "bytes 10-9/10".
func parseRange(s string, size int64) ([]ByteRange, error) {
	if s == "" {
		return nil, nil
	}
	const b = "bytes="
	if !strings.HasPrefix(s, b) {
		return nil, errInvalidRange
	}
	var ranges []ByteRange
	noOverlap := false
	for ra := range strings.SplitSeq(s[len(b):], ",") {
		ra = textproto.TrimString(ra)
		if ra == "" {
			continue
		}
		start, end, ok := strings.Cut(ra, "-")
		if !ok {
			return nil, errInvalidRange
		}
		start, end = textproto.TrimString(start), textproto.TrimString(end)
		var r ByteRange
		if start == "" {
			// A suffix: the last end bytes.
			if end == "" || end[0] == '-' {
				return nil, errInvalidRange
			}
			n, err := strconv.ParseInt(end, 10, 64)
			if err != nil || n < 0 {
				return nil, errInvalidRange
			}
			if n == 0 || size == 0 {
				noOverlap = true
				continue
			}
			n = min(n, size)
			r = ByteRange{Off: size - n, Len: n}
		} else {
			off, err := strconv.ParseInt(start, 10, 64)
			if err != nil || off < 0 {
				return nil, errInvalidRange
			}
			if off >= size {
				noOverlap = true
				continue
			}
			r.Off = off
			if end == "" {
				r.Len = size - off
			} else {
				last, err := strconv.ParseInt(end, 10, 64)
				if err != nil || off > last {
					return nil, errInvalidRange
				}
				r.Len = min(last, size-1) - off + 1
			}
		}
		ranges = append(ranges, r)
	}
	if noOverlap && len(ranges) == 0 {
		return nil, errNoOverlap
	}
	return ranges, nil
}

func sumRanges(ranges []ByteRange) int64 {
	var n int64
	for _, r := range ranges {
		n += r.Len
	}
	return n
}
