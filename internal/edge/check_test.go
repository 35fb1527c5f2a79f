package edge_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/edge"
)

func TestCheckPathPattern(t *testing.T) {
	long := "/" + strings.Repeat("a", edge.MaxPatternLength-1)
	for _, tc := range []struct {
		pattern string
		want    string // the error; "" for none
	}{
		{"*", ""},
		{"/", ""},
		{"/videos/*", ""},
		{"/a*b*.mp4", ""},
		{"/caf%C3%A9/*", ""},
		{"/~user/$x@y:z+'\"&", ""},
		{long, ""},
		{long + "a", "longer than 255 bytes (CloudFront's limit)"},
		{"", "required: a pattern such as /videos/*, or * for every path"},
		{"videos/*", `"videos/*" must start with '/', or be "*" for every path`},
		{"*.png", `"*.png" must start with '/', or be "*" for every path`},
		{"/a?c", `"/a?c": patterns match the path only, and '?' is not a wildcard here`},
		{"/a b", `"/a b" holds a space or control character (write it percent-encoded, as in URLs)`},
		{"/a\tb", `"/a\tb" holds a space or control character (write it percent-encoded, as in URLs)`},
		{"/a\x7f", `"/a\x7f" holds a space or control character (write it percent-encoded, as in URLs)`},
		{"/café", `"/café" holds a non-ASCII character (write it percent-encoded, as in URLs)`},
		{"/a#b", `"/a#b" holds '#', which ends a URL's path (write it percent-encoded, %23)`},
		{`/a\b`, `"/a\\b" holds a backslash, which the edge refuses in every path`},
	} {
		if got := errText(edge.CheckPathPattern(tc.pattern)); got != tc.want {
			t.Errorf("CheckPathPattern(%q) = %q; want %q", tc.pattern, got, tc.want)
		}
	}
}

func TestCheckReachable(t *testing.T) {
	patterns := []string{"/a/*", "/b", "/a/*", "*", "/c", "*"}
	want := []string{
		"",
		"",
		"never matches: behaviors[0] has the same pattern and comes first",
		"",
		`never matches: behaviors[3] ("*") comes first and matches every path`,
		"never matches: behaviors[3] has the same pattern and comes first",
	}
	for k := range patterns {
		if got := errText(edge.CheckReachable(patterns, k)); got != want[k] {
			t.Errorf("CheckReachable(%q, %d) = %q; want %q", patterns, k, got, want[k])
		}
	}
}

func TestCheckRedirectTTL(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{time.Second, ""},
		{1500 * time.Millisecond, ""},
		{edge.DefaultRedirectTTL, ""},
		{edge.MaxRedirectTTL, ""},
		{edge.MaxRedirectTTL + time.Second, "outside (0s, 7d]: S3 presigned URLs live at most 7 days"},
		{0, "outside (0s, 7d]: S3 presigned URLs live at most 7 days"},
		{-time.Second, "outside (0s, 7d]: S3 presigned URLs live at most 7 days"},
		{time.Second - 1, "below 1s: a presigned URL's lifetime is whole seconds"},
	} {
		if got := errText(edge.CheckRedirectTTL(tc.d)); got != tc.want {
			t.Errorf("CheckRedirectTTL(%v) = %q; want %q", tc.d, got, tc.want)
		}
	}
}

func TestCheckHost(t *testing.T) {
	for _, tc := range []struct {
		host string
		want string
	}{
		{"media.example.com", ""},
		{"localhost", ""},
		{"localhost:8080", ""},
		{"a-b.example:65535", ""},
		{"192.0.2.1", ""},
		{"192.0.2.1:8080", ""},
		{"[::1]", ""},
		{"[2001:db8::1]:8443", ""},
		{"Media.example.com", `"Media.example.com" must be lower case: "media.example.com"`},
		{"[::A]", `"[::A]" must be lower case: "[::a]"`},
		{"::1", `"::1": write an IPv6 address in brackets, [::1]`},
		{"[fe80::1%eth0]", `"[fe80::1%eth0]" is not a host[:port]`},
		{"[192.0.2.1]", `"[192.0.2.1]" is not a host[:port]`},
		{"[::1]:0", `"[::1]:0": the port must be a number from 1 to 65535`},
		{"a.example:0", `"a.example:0": the port must be a number from 1 to 65535`},
		{"a.example:65536", `"a.example:65536": the port must be a number from 1 to 65535`},
		{"a.example:08", `"a.example:08": the port must be a number from 1 to 65535`},
		{"*.example.com", `"*.example.com": wildcards are not supported; list each host, or leave hosts empty for any host`},
		{"media_files.example", `"media_files.example": "media_files.example" is not a host name (labels of a-z, 0-9 and '-', separated by dots)`},
		{"a.example.", `"a.example.": "a.example." is not a host name (labels of a-z, 0-9 and '-', separated by dots)`},
		{"-a.example", `"-a.example": "-a.example" is not a host name (labels of a-z, 0-9 and '-', separated by dots)`},
		{"x.test/a", `"x.test/a": "x.test/a" is not a host name (labels of a-z, 0-9 and '-', separated by dots)`},
		{"", `"": empty host name`},
	} {
		if got := errText(edge.CheckHost(tc.host)); got != tc.want {
			t.Errorf("CheckHost(%q) = %q; want %q", tc.host, got, tc.want)
		}
	}
}

func TestCheckHostName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string
	}{
		{"a", ""},
		{"a-b.c0", ""},
		{strings.Repeat("a", 63) + ".example", ""},
		{strings.Repeat("a", 64) + ".example", `"` + strings.Repeat("a", 64) + `.example" is not a host name (labels of a-z, 0-9 and '-', separated by dots)`},
		{strings.Repeat("a.", 126) + "ab", "host name longer than 253 bytes"},
		{"", "empty host name"},
		{"A.example", `"A.example" must be lower case: "a.example"`},
		{"192.0.2.1", `"192.0.2.1" is an IP address, not a host name`},
		{"a..b", `"a..b" is not a host name (labels of a-z, 0-9 and '-', separated by dots)`},
	} {
		if got := errText(edge.CheckHostName(tc.name)); got != tc.want {
			t.Errorf("CheckHostName(%q) = %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestCheckName(t *testing.T) {
	long := strings.Repeat("a", edge.MaxNameLength)
	names := []string{"media", "Media_2-x", long, long + "a", "", "a b", "média", "media", "a.b", "Media_2-x"}
	const syntax = "a distribution name is 1 to 64 letters, digits, '-' and '_'"
	want := []string{
		"",
		"",
		"",
		syntax,
		syntax,
		syntax,
		syntax,
		`"media" is also the name of distributions[0]`,
		syntax,
		`"Media_2-x" is also the name of distributions[1]`,
	}
	for k := range names {
		if got := errText(edge.CheckName(names, k)); got != want[k] {
			t.Errorf("CheckName(%q, %d) = %q; want %q", names, k, got, want[k])
		}
	}
}

func TestCheckDefault(t *testing.T) {
	hosts := [][]string{{"a.test"}, nil, {"b.test"}, {}, nil}
	want := []string{
		"",
		"",
		"",
		"only one distribution may leave hosts empty (any host); distributions[1] does already",
		"only one distribution may leave hosts empty (any host); distributions[1] does already",
	}
	for i := range hosts {
		if got := errText(edge.CheckDefault(hosts, i)); got != want[i] {
			t.Errorf("CheckDefault(%q, %d) = %q; want %q", hosts, i, got, want[i])
		}
	}
}

func TestCheckHostOnce(t *testing.T) {
	hosts := [][]string{{"a.test", "b.test:8443", "a.test"}, nil, {"b.test", "b.test:8443", "c.test"}}
	want := [][]string{
		{"", "", `"a.test" is also distributions[0].hosts[0]: a host belongs to one distribution`},
		nil,
		{"", `"b.test:8443" is also distributions[0].hosts[1]: a host belongs to one distribution`, ""},
	}
	for i := range hosts {
		for j := range hosts[i] {
			if got := errText(edge.CheckHostOnce(hosts, i, j)); got != want[i][j] {
				t.Errorf("CheckHostOnce(%q, %d, %d) = %q; want %q", hosts, i, j, got, want[i][j])
			}
		}
	}
}

func TestCheckMethod(t *testing.T) {
	methods := []string{"GET", "post", "GET", "OPTIONS", "HEAD", "get", "OPTIONS"}
	want := []string{
		"",
		`"post" is not one of GET, HEAD, OPTIONS`,
		"GET repeats allowed_methods[0]",
		"",
		"",
		`"get" is not one of GET, HEAD, OPTIONS`,
		"OPTIONS repeats allowed_methods[3]",
	}
	for k := range methods {
		err := edge.CheckMethod(methods, k)
		if got := errText(err); got != want[k] {
			t.Errorf("CheckMethod(%q, %d) = %q; want %q", methods, k, got, want[k])
		}
		var e *edge.NotOneOfError
		if isNotOneOf := errors.As(err, &e); isNotOneOf != strings.Contains(want[k], "not one of") {
			t.Errorf("CheckMethod(%q, %d) is a *NotOneOfError: %v; want %v", methods, k, isNotOneOf, !isNotOneOf)
		}
	}
}

func TestCheckMethods(t *testing.T) {
	for _, tc := range []struct {
		methods []string
		want    string
	}{
		{[]string{"GET", "HEAD"}, ""},
		{[]string{"OPTIONS", "HEAD", "GET"}, ""},
		{[]string{"HEAD", "GET", "GET"}, ""}, // the repeat is CheckMethod's
		{nil, "required: [GET, HEAD] or [GET, HEAD, OPTIONS]"},
		{[]string{}, "required: [GET, HEAD] or [GET, HEAD, OPTIONS]"},
		{[]string{"GET"}, "must include HEAD (CloudFront's method sets always do)"},
		{[]string{"HEAD", "PUT"}, "must include GET (CloudFront's method sets always do)"},
		{[]string{"OPTIONS"}, "must include GET and HEAD (CloudFront's method sets always do)"},
	} {
		if got := errText(edge.CheckMethods(tc.methods)); got != tc.want {
			t.Errorf("CheckMethods(%q) = %q; want %q", tc.methods, got, tc.want)
		}
	}
}

func TestCheckVocabulary(t *testing.T) {
	for _, tc := range []struct {
		name   string
		check  func(string) error
		values []string
		bad    string
		want   string
	}{
		{"CheckViewerProtocol", edge.CheckViewerProtocol, edge.ViewerProtocols, "https", `"https" is not one of allow-all, https-only, redirect-to-https`},
		{"CheckMode", edge.CheckMode, edge.Modes, "lambda", `"lambda" is not one of proxy, redirect`},
	} {
		for _, v := range tc.values {
			if err := tc.check(v); err != nil {
				t.Errorf("%s(%q) = %v; want nil", tc.name, v, err)
			}
		}
		for _, v := range []string{"", tc.bad} {
			err := tc.check(v)
			var e *edge.NotOneOfError
			if !errors.As(err, &e) || e.Value != v || !slices.Equal(e.Values, tc.values) {
				t.Errorf("%s(%q) = %#v; want a *NotOneOfError of %q among %q", tc.name, v, err, v, tc.values)
			}
		}
		if got := errText(tc.check(tc.bad)); got != tc.want {
			t.Errorf("%s(%q) = %q; want %q", tc.name, tc.bad, got, tc.want)
		}
	}
}

// TestOriginPathWithoutSlash checks that an origin path is one prefix
// however many '/' end it: "media" reads "/a.txt" from "media/a.txt".
func TestOriginPathWithoutSlash(t *testing.T) {
	rec := newRecorder()
	rec.put("media/a.txt", "in media")
	for _, op := range []string{"media", "media/", "media//"} {
		e := mustNew(t, edge.Config{Distributions: oneDist(rec, edge.Behavior{PathPattern: "*", OriginPath: op})})
		rec.ResetAsked()
		p := decide(t, e, "GET", "/a.txt")
		if got := rec.Asked(); p.Status != 200 || !slices.Equal(got, []string{"media/a.txt"}) {
			t.Errorf("OriginPath %q: GET /a.txt = %d, asking the origin for %q; want 200, asking for [media/a.txt]", op, p.Status, got)
		}
	}
}

// errText is err's text, or "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
