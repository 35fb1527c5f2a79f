package edge_test

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/edgetest"
	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/origintest"
)

// The oracle tests hold the edge's conditional and range logic against
// http.ServeContent: for the same object and request headers, the same
// status, validators, Content-Range, Content-Length, Content-Type and body
// bytes (multipart bodies part by part, since boundaries are random).
// Where ServeContent's own answer is invalid HTTP (a zero-length range,
// sent as "bytes 10-9/10"), or it would read more than edge.MaxRanges
// ranges, the edge differs on purpose and the case is skipped.

// object is one object version served both ways.
type object struct {
	name  string // key, and ServeContent's name (for the type guess)
	data  []byte
	mod   time.Time
	etag  string // "" = none
	ctype string // the origin's Content-Type; "" = guess from name
}

// headers are the request headers that matter.
type headers struct {
	method                                                       string
	rng, ifRange, ifMatch, ifNoneMatch, ifModSince, ifUnmodSince string
}

var oracleMod = time.Date(2025, 6, 1, 10, 20, 30, 500_000_000, time.UTC)

// objectVariant builds the object a fuzz or table case serves: size bytes,
// and variant bits choosing no ETag, a weak ETag, an origin type, and no
// modification time.
func objectVariant(size int, variant uint8) object {
	o := object{name: "file.txt", data: edgetest.Pattern(size, 37), mod: oracleMod, etag: `"v1"`}
	if variant&1 != 0 {
		o.etag = ""
	}
	if variant&2 != 0 {
		o.etag = `W/"weak"`
	}
	if variant&4 != 0 {
		o.ctype = "video/mp4"
	}
	if variant&8 != 0 {
		o.mod = time.Time{}
	}
	if variant&16 != 0 {
		o.name = "data.json"
	}
	return o
}

// viaEdge answers h for o through edge.Decide and Plan.WriteBody.
func viaEdge(t testing.TB, o object, h headers) (*edge.Plan, []byte) {
	t.Helper()
	mem := origintest.NewMem()
	mem.PutInfo(origin.Info{Key: o.name, ModTime: o.mod, ETag: o.etag, ContentType: o.ctype}, o.data)
	e, err := edge.New(edge.Config{Distributions: []edge.Distribution{{
		Name: "d", Origin: mem, Behaviors: []edge.Behavior{{PathPattern: "*"}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	p := e.Decide(t.Context(), &edge.Request{
		Method: h.method, Scheme: "http", Host: "example.com", Target: "/" + o.name,
		Range: h.rng, IfRange: h.ifRange, IfMatch: h.ifMatch, IfNoneMatch: h.ifNoneMatch,
		IfModifiedSince: h.ifModSince, IfUnmodifiedSince: h.ifUnmodSince,
	})
	var body bytes.Buffer
	n, err := p.WriteBody(t.Context(), &body)
	if err != nil {
		t.Fatalf("WriteBody: %v", err)
	}
	if n != int64(body.Len()) {
		t.Fatalf("WriteBody = %d; wrote %d bytes", n, body.Len())
	}
	return p, body.Bytes()
}

// viaServeContent answers h for o with http.ServeContent.
func viaServeContent(o object, h headers) *http.Response {
	req := httptest.NewRequest(h.method, "/"+o.name, nil)
	for _, kv := range [][2]string{
		{"Range", h.rng}, {"If-Range", h.ifRange}, {"If-Match", h.ifMatch}, {"If-None-Match", h.ifNoneMatch},
		{"If-Modified-Since", h.ifModSince}, {"If-Unmodified-Since", h.ifUnmodSince},
	} {
		if kv[1] != "" {
			req.Header.Set(kv[0], kv[1])
		}
	}
	rec := httptest.NewRecorder()
	if o.etag != "" {
		rec.Header().Set("Etag", o.etag)
	}
	if o.ctype != "" {
		rec.Header().Set("Content-Type", o.ctype)
	}
	http.ServeContent(rec, req, o.name, o.mod, bytes.NewReader(o.data))
	return rec.Result()
}

type part struct {
	contentRange, contentType string
	body                      []byte
}

func parseParts(contentType string, body []byte) ([]part, error) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, err
	}
	var parts []part
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, err
		}
		parts = append(parts, part{p.Header.Get("Content-Range"), p.Header.Get("Content-Type"), b})
	}
}

// validContentRange reports whether a Content-Range names a non-empty
// range (or is "bytes */n").
func validContentRange(cr string) bool {
	var a, b, n int64
	if _, err := fmt.Sscanf(cr, "bytes %d-%d/%d", &a, &b, &n); err != nil {
		return strings.HasPrefix(cr, "bytes */")
	}
	return a <= b && b < n
}

// oracleInvalid reports whether ServeContent's GET answer to h is one the
// edge differs from on purpose: a 206 with an empty range, or with more
// than edge.MaxRanges parts.
func oracleInvalid(t testing.TB, o object, h headers) bool {
	t.Helper()
	h.method = "GET"
	resp := viaServeContent(o, h)
	if resp.StatusCode != 206 {
		return false
	}
	ct := resp.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "multipart/byteranges") {
		return !validContentRange(resp.Header.Get("Content-Range"))
	}
	body, _ := io.ReadAll(resp.Body)
	parts, err := parseParts(ct, body)
	if err != nil {
		t.Fatalf("ServeContent's multipart body: %v", err)
	}
	if len(parts) > edge.MaxRanges {
		return true
	}
	for _, p := range parts {
		if !validContentRange(p.contentRange) {
			return true
		}
	}
	return false
}

// compareWithOracle reports the differences between the edge's answer and
// ServeContent's; skipped is true when the case is a deliberate difference.
func compareWithOracle(t testing.TB, o object, h headers) (diffs []string, skipped bool) {
	t.Helper()
	if oracleInvalid(t, o, h) {
		return nil, true
	}
	want := viaServeContent(o, h)
	wantBody, _ := io.ReadAll(want.Body)
	multi := strings.HasPrefix(want.Header.Get("Content-Type"), "multipart/byteranges")
	var wantParts []part
	if multi && h.method != "HEAD" {
		var err error
		if wantParts, err = parseParts(want.Header.Get("Content-Type"), wantBody); err != nil {
			t.Fatalf("ServeContent's multipart body: %v", err)
		}
	}

	p, body := viaEdge(t, o, h)
	diff := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	if p.Status != want.StatusCode {
		diff("status = %d; ServeContent %d", p.Status, want.StatusCode)
		return diffs, false
	}
	names := []string{"Etag", "Last-Modified", "Content-Range"}
	switch p.Status {
	case 200, 206, 304:
		names = append(names, "Accept-Ranges", "Content-Length")
		if !multi {
			names = append(names, "Content-Type")
		}
	case 416:
		names = append(names, "Content-Type")
	}
	for _, name := range names {
		if g, w := p.Header.Get(name), want.Header.Get(name); g != w {
			diff("%s = %q; ServeContent %q", name, g, w)
		}
	}
	if p.Status != 200 && p.Status != 206 {
		return diffs, false
	}
	if h.method != "HEAD" && strconv.Itoa(len(body)) != p.Header.Get("Content-Length") {
		diff("Content-Length = %s; body has %d bytes", p.Header.Get("Content-Length"), len(body))
	}
	if !multi {
		if !bytes.Equal(body, wantBody) {
			diff("body = %.40q (%d bytes); ServeContent %.40q (%d bytes)", body, len(body), wantBody, len(wantBody))
		}
		return diffs, false
	}
	if !strings.HasPrefix(p.Header.Get("Content-Type"), "multipart/byteranges; boundary=") {
		diff("Content-Type = %q; want multipart/byteranges", p.Header.Get("Content-Type"))
	}
	if h.method == "HEAD" {
		if len(body) != 0 {
			diff("HEAD body has %d bytes", len(body))
		}
		return diffs, false
	}
	parts, err := parseParts(p.Header.Get("Content-Type"), body)
	if err != nil {
		diff("multipart body: %v", err)
		return diffs, false
	}
	if fmt.Sprintf("%q", parts) != fmt.Sprintf("%q", wantParts) {
		diff("parts = %.200q; ServeContent %.200q", parts, wantParts)
	}
	return diffs, false
}

func TestOracle(t *testing.T) {
	lm := oracleMod.Format(http.TimeFormat)
	before := oracleMod.Add(-time.Hour).Format(http.TimeFormat)
	after := oracleMod.Add(time.Hour).Format(http.TimeFormat)
	cases := []headers{
		{},
		{rng: "bytes=0-0"},
		{rng: "bytes=0-4"},
		{rng: "bytes=5-"},
		{rng: "bytes=-3"},
		{rng: "bytes=-3000"},
		{rng: "bytes=2-1"},
		{rng: "bytes=0-4,6-8"},
		{rng: "bytes=0-4, 2-6 ,-2"},
		{rng: "bytes=0-,0-"},
		{rng: "bytes=999-"},
		{rng: "bytes=1000-2000"},
		{rng: "bytes=1000-2000,5-6"},
		{rng: "bytes="},
		{rng: "bytes=,"},
		{rng: "bytes=a-b"},
		{rng: "bytes=--1"},
		{rng: "bytes=1"},
		{rng: "items=0-1"},
		{rng: "bytes=0-9223372036854775807"},
		{rng: "bytes=9223372036854775807-"},
		{rng: "bytes=-9223372036854775808"},
		{rng: "bytes=0-4", ifRange: `"v1"`},
		{rng: "bytes=0-4", ifRange: `"v2"`},
		{rng: "bytes=0-4", ifRange: `W/"v1"`},
		{rng: "bytes=0-4", ifRange: lm},
		{rng: "bytes=0-4", ifRange: before},
		{rng: "bytes=0-4", ifRange: "garbage"},
		{ifMatch: `"v1"`},
		{ifMatch: `"v2", "v1"`},
		{ifMatch: `"v2"`},
		{ifMatch: "*"},
		{ifMatch: `W/"v1"`},
		{ifMatch: "garbage"},
		{ifMatch: `"v2"`, ifNoneMatch: `"v1"`},
		{ifNoneMatch: `"v1"`},
		{ifNoneMatch: `W/"v1"`},
		{ifNoneMatch: `"a" , "v1"`},
		{ifNoneMatch: `"v2"`},
		{ifNoneMatch: "*"},
		{ifNoneMatch: ","},
		{ifNoneMatch: `"v2"`, ifModSince: after},
		{ifModSince: lm},
		{ifModSince: before},
		{ifModSince: after},
		{ifModSince: "Sunday, 01-Jun-25 10:20:30 GMT"},
		{ifModSince: "Sun Jun  1 10:20:30 2025"},
		{ifModSince: "yesterday"},
		{ifUnmodSince: lm},
		{ifUnmodSince: before},
		{ifUnmodSince: "garbage"},
		{ifUnmodSince: before, ifMatch: `"v1"`},
		{ifModSince: lm, rng: "bytes=0-1"},
		{ifNoneMatch: `"v2"`, rng: "bytes=0-1,3-4", ifRange: `"v1"`},
	}
	for _, size := range []int{0, 1, 5, 1000} {
		for variant := range uint8(32) {
			for _, method := range []string{"GET", "HEAD"} {
				for _, h := range cases {
					h.method = method
					o := objectVariant(size, variant)
					diffs, _ := compareWithOracle(t, o, h)
					for _, d := range diffs {
						t.Errorf("%s %d bytes, variant %d, %+v: %s", method, size, variant, h, d)
					}
				}
			}
		}
	}
}

// TestOracleDifferences pins the two deliberate differences.
func TestOracleDifferences(t *testing.T) {
	o := objectVariant(1000, 0)
	tests := []struct {
		rng    string
		status int
		cr     string
	}{
		{"bytes=-0", 416, "bytes */1000"},
		{"bytes=-0,2-3", 206, "bytes 2-3/1000"},
		{"bytes=" + strings.Repeat("0-0,", edge.MaxRanges+1), 200, ""},
		{"bytes=" + strings.Repeat("0-0,", edge.MaxRanges-1) + "1-1", 206, ""},
	}
	for _, tc := range tests {
		p, _ := viaEdge(t, o, headers{method: "GET", rng: tc.rng})
		if p.Status != tc.status || p.Header.Get("Content-Range") != tc.cr {
			t.Errorf("Range %.40q: %d, Content-Range %q; want %d, %q", tc.rng, p.Status, p.Header.Get("Content-Range"), tc.status, tc.cr)
		}
	}
	p, _ := viaEdge(t, objectVariant(0, 0), headers{method: "GET", rng: "bytes=-5"})
	if p.Status != 200 {
		t.Errorf("suffix range of an empty object: %d; want 200 (no bytes to select, and empty objects ignore Range)", p.Status)
	}
}

func FuzzRanges(f *testing.F) {
	lm := oracleMod.Format(http.TimeFormat)
	f.Add(uint16(100), "bytes=0-9", "", "", "", "", "", false, uint8(0))
	f.Add(uint16(100), "bytes=0-9,20-29", `"v1"`, "", "", "", "", false, uint8(0))
	f.Add(uint16(100), "bytes=-5", lm, "", "", "", "", true, uint8(4))
	f.Add(uint16(0), "bytes=0-", "", "", "", "", "", false, uint8(0))
	f.Add(uint16(10), "", "", `"v1"`, `"v1"`, lm, lm, false, uint8(2))
	f.Add(uint16(10), "bytes=5-1", "", "*", "*", "", "", false, uint8(8))
	f.Fuzz(func(t *testing.T, size uint16, rng, ifRange, ifMatch, ifNoneMatch, ims, ius string, head bool, variant uint8) {
		h := headers{method: "GET", rng: rng, ifRange: ifRange, ifMatch: ifMatch, ifNoneMatch: ifNoneMatch, ifModSince: ims, ifUnmodSince: ius}
		if head {
			h.method = "HEAD"
		}
		o := objectVariant(int(size%4096), variant)
		diffs, _ := compareWithOracle(t, o, h)
		for _, d := range diffs {
			t.Errorf("%s %d bytes, variant %d, %+v: %s", h.method, len(o.data), variant, h, d)
		}
	})
}
