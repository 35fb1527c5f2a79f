package edge_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/edgetest"
)

// FuzzDecide feeds Decide arbitrary request facts. Invariants: no panic; a
// status from the known set; header values that cannot split a response;
// every key the origin is asked for is safe (no dot or empty segment, no
// leading '/', no NUL or backslash); a served body is bytes of the object
// named by the behavior's origin path plus the path decoded once, and never
// of an object behind the signed behavior (the fuzzer has no key).
func FuzzDecide(f *testing.F) {
	keys := edgetest.NewKeys(f)
	objects := map[string]string{
		"private/secret.txt": "SECRET-A",
		"media/pub/a.txt":    "public a",
		"a.txt":              "plain a",
		"a b.txt":            "spaced",
		"a%20b.txt":          "literal percent",
		"x/y/z.json":         "{}",
	}
	rec := newRecorder()
	for k, v := range objects {
		rec.put(k, v)
	}
	e := mustNew(f, edge.Config{Distributions: []edge.Distribution{
		{Name: "site", Hosts: []string{"site.test"}, Origin: rec, Behaviors: []edge.Behavior{
			{PathPattern: "/private/*", Verifier: keys.Verifier},
			{PathPattern: "/pub/*", OriginPath: "media/"},
			{PathPattern: "/x/*", ViewerProtocol: edge.RedirectToHTTPS},
			{PathPattern: "*"},
		}},
		{Name: "default", Origin: rec, Behaviors: []edge.Behavior{
			{PathPattern: "*", Verifier: keys.Verifier},
		}},
	}})
	prefix := map[string]string{"/pub/*": "media/", "*": "", "/x/*": ""}
	statuses := map[int]bool{200: true, 204: true, 206: true, 301: true, 302: true, 304: true, 400: true,
		403: true, 404: true, 405: true, 412: true, 414: true, 416: true, 421: true}

	for _, seed := range []struct{ method, host, target, cookie, rng string }{
		{"GET", "site.test", "/a.txt", "", ""},
		{"GET", "site.test", "/pub/a.txt", "", "bytes=0-3"},
		{"GET", "site.test", "/private/secret.txt", "CloudFront-Key-Pair-Id=K; CloudFront-Signature=x", ""},
		{"GET", "site.test", "/private/secret.txt?Expires=1&Signature=abc&Key-Pair-Id=" + keys.Trusted.KeyID(), "", ""},
		{"GET", "site.test", "/pub/../private/secret.txt", "", ""},
		{"GET", "site.test", "/pub/%2e%2e/private/secret.txt", "", ""},
		{"GET", "site.test", "/a%20b.txt", "", "bytes=-2,0-1"},
		{"HEAD", "SITE.TEST:8080", "/x/y/z.json?q", "", ""},
		{"GET", "other.test", "/a.txt", "", ""},
		{"OPTIONS", "site.test", "*", "", ""},
		{"GET", "site.test", "http://site.test/a.txt", "", ""},
	} {
		f.Add(seed.method, seed.host, seed.target, seed.cookie, seed.rng, false)
	}
	f.Fuzz(func(t *testing.T, method, host, target, cookie, rng string, tls bool) {
		scheme := "http"
		if tls {
			scheme = "https"
		}
		rec.ResetAsked()
		p := e.Decide(t.Context(), &edge.Request{
			Method: method, Scheme: scheme, Host: host, Target: target, Cookies: []string{cookie}, Range: rng,
		})
		if !statuses[p.Status] {
			t.Fatalf("status %d (%v) is not in the known set", p.Status, p.Reason)
		}
		for name, values := range p.Header {
			for _, v := range values {
				if strings.ContainsAny(v, "\r\n\x00") {
					t.Fatalf("header %s = %q can split the response", name, v)
				}
			}
		}
		for _, key := range rec.Asked() {
			if err := cfsign.CheckPath("/" + key); err != nil && !strings.Contains(key, "%") {
				t.Fatalf("origin asked for unsafe key %q: %v", key, err)
			}
			if strings.HasPrefix(key, "/") || strings.ContainsAny(key, "\x00\\") {
				t.Fatalf("origin asked for unsafe key %q", key)
			}
			for seg := range strings.SplitSeq(key, "/") {
				if seg == "" || seg == "." || seg == ".." {
					t.Fatalf("origin asked for key %q with segment %q", key, seg)
				}
			}
		}
		var body bytes.Buffer
		if _, err := p.WriteBody(t.Context(), &body); err != nil {
			t.Fatalf("WriteBody: %v", err)
		}
		if bytes.Contains(body.Bytes(), []byte("SECRET")) {
			t.Fatalf("served the signed object to an unsigned request: %d %q", p.Status, target)
		}
		if p.Status != 200 && p.Status != 206 {
			return
		}
		path, _ := cfsign.SplitTarget(target)
		decoded, err := url.PathUnescape(path[1:])
		if err != nil {
			t.Fatalf("served %q, whose path does not decode: %v", target, err)
		}
		want := prefix[p.Behavior] + decoded
		if p.Object == nil || p.Object.Key != want {
			t.Fatalf("served %+v for %q; want the key %q", p.Object, target, want)
		}
		data := objects[want]
		if p.Status == 200 && method == "GET" && body.String() != data {
			t.Fatalf("served %q for %q; want %q", body.String(), want, data)
		}
		for _, r := range p.Ranges {
			if r.Off < 0 || r.Len <= 0 || r.Off+r.Len > int64(len(data)) {
				t.Fatalf("range %+v outside the %d bytes of %q", r, len(data), want)
			}
		}
	})
}
