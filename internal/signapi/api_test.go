package signapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/signapi"
)

func TestSignURL(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantURL  string // the signed URL up to its signing parameters
		wantExp  string
		clientIP string // the viewer the link is checked for
		wantHash map[string]cfsign.Hash
	}{{
		name:    "url, canned",
		body:    `{"url": "https://media.example.com/reports/q3.pdf", "expires_in": 3600}`,
		wantURL: "https://media.example.com/reports/q3.pdf?Expires=1893416400&Signature=",
		wantExp: "2029-12-31T13:00:00Z",
	}, {
		name:    "url with a query",
		body:    `{"url": "https://media.example.com/reports/q3.pdf?v=2&lang=en", "expires_in": 60}`,
		wantURL: "https://media.example.com/reports/q3.pdf?v=2&lang=en&Expires=1893412860&Signature=",
		wantExp: "2029-12-31T12:01:00Z",
	}, {
		name:    "percent-encoded url in scope once decoded",
		body:    `{"url": "https://media.example.com/report%73/a%20b.pdf", "expires_in": 60}`,
		wantURL: "https://media.example.com/report%73/a%20b.pdf?Expires=1893412860&Signature=",
		wantExp: "2029-12-31T12:01:00Z",
	}, {
		name:    "distribution and key, each segment percent-encoded",
		body:    `{"distribution": "media", "key": "reports/q3 final (v2)+ü*.pdf", "expires_at": "2030-01-01T00:00:00Z"}`,
		wantURL: "https://media.example.com/reports/q3%20final%20%28v2%29+%C3%BC%2A.pdf?Expires=1893456000&Signature=",
		wantExp: "2030-01-01T00:00:00Z",
	}, {
		name:    "expires_at in RFC 3339 with an offset",
		body:    `{"distribution": "media", "key": "videos/a.mp4", "expires_at": "2030-01-01T01:00:00+01:00"}`,
		wantURL: "https://media.example.com/videos/a.mp4?Expires=1893456000&Signature=",
		wantExp: "2030-01-01T00:00:00Z",
	}, {
		name:    "expires_at in Unix seconds",
		body:    `{"distribution": "media", "key": "videos/a.mp4", "expires_at": 1893456000}`,
		wantURL: "https://media.example.com/videos/a.mp4?Expires=1893456000&Signature=",
		wantExp: "2030-01-01T00:00:00Z",
	}, {
		name:     "custom: resource, ip range, not_before",
		body:     `{"url": "https://media.example.com/videos/x/index.m3u8", "resource": "https://media.example.com/videos/x/*", "ip": "203.0.113.0/24", "not_before": "2029-12-31T12:00:00Z", "expires_in": 900}`,
		wantURL:  "https://media.example.com/videos/x/index.m3u8?Policy=",
		wantExp:  "2029-12-31T12:15:00Z",
		clientIP: "203.0.113.9",
	}, {
		name:     "custom: a bare address gets /32; IPv4-mapped counts as IPv4",
		body:     `{"url": "https://media.example.com/videos/a.mp4", "ip": "::ffff:198.51.100.7", "expires_in": 60}`,
		wantURL:  "https://media.example.com/videos/a.mp4?Policy=",
		wantExp:  "2029-12-31T12:01:00Z",
		clientIP: "198.51.100.7",
	}, {
		name:     "hash sha256 asked for",
		body:     `{"url": "https://media.example.com/reports/q3.pdf", "expires_in": 60, "hash": "SHA256"}`,
		wantURL:  "https://media.example.com/reports/q3.pdf?Expires=1893412860&Signature=",
		wantExp:  "2029-12-31T12:01:00Z",
		wantHash: map[string]cfsign.Hash{"p256": cfsign.SHA256, "rsa": cfsign.SHA256},
	}, {
		name:     "hash sha1 asked for, in-process RSA only",
		body:     `{"url": "https://broad.example.com/a.pdf", "expires_in": 60, "hash": "sha1"}`,
		wantURL:  "https://broad.example.com/a.pdf?Expires=1893412860&Signature=",
		wantExp:  "2029-12-31T12:01:00Z",
		wantHash: map[string]cfsign.Hash{"rsa": cfsign.SHA1}, // p256: see TestRefusals
	}, {
		name:     "strict distribution with ip, at its 1h cap",
		body:     `{"url": "https://strict.example.com/a.pdf", "ip": "192.0.2.1", "expires_in": 3600}`,
		wantURL:  "https://strict.example.com/a.pdf?Policy=",
		wantExp:  "2029-12-31T13:00:00Z",
		clientIP: "192.0.2.1",
	}, {
		name:    "broad distribution: a bare *",
		body:    `{"url": "https://broad.example.com/any/thing.txt", "resource": "*", "expires_in": 60}`,
		wantURL: "https://broad.example.com/any/thing.txt?Policy=",
		wantExp: "2029-12-31T12:01:00Z",
	}, {
		name:    "broad distribution: domain wildcard and path wildcard at the root",
		body:    `{"url": "https://broad.example.com/x.txt", "resource": "https://broad*/*", "expires_in": 60}`,
		wantURL: "https://broad.example.com/x.txt?Policy=",
		wantExp: "2029-12-31T12:01:00Z",
	}}
	for _, kt := range []string{"p256", "rsa"} {
		f := newFixture(t, fixtureOptions{rsa: kt == "rsa"})
		defaultHash := map[string]cfsign.Hash{"p256": cfsign.SHA256, "rsa": cfsign.SHA1}[kt]
		for _, tc := range tests {
			want, ok := tc.wantHash[kt]
			if tc.wantHash == nil {
				want, ok = defaultHash, true
			}
			if !ok {
				continue // a case for the other key type
			}
			t.Run(kt+"/"+tc.name, func(t *testing.T) {
				var got urlResult
				decode(t, f.post("/v1/sign/url", f.token, tc.body), &got)
				if !strings.HasPrefix(got.URL, tc.wantURL) {
					t.Errorf("url = %s; want prefix %s", got.URL, tc.wantURL)
				}
				if got.ExpiresAt != tc.wantExp {
					t.Errorf("expires_at = %s; want %s", got.ExpiresAt, tc.wantExp)
				}
				wantID := map[string]string{"p256": "KP256TEST", "rsa": "KRSATEST"}[kt]
				if got.KeyID != wantID || !strings.Contains(got.URL, "&Key-Pair-Id="+wantID) {
					t.Errorf("key_id = %s, url %s; want %s", got.KeyID, got.URL, wantID)
				}
				if gotSHA256 := strings.HasSuffix(got.URL, "&Hash-Algorithm=SHA256"); gotSHA256 != (want == cfsign.SHA256) {
					t.Errorf("url %s: Hash-Algorithm=SHA256 %t; want hash %s", got.URL, gotSHA256, want)
				}
				res, err := verifyURL(t, got.URL, testNow.Add(time.Second), tc.clientIP)
				if err != nil {
					t.Fatalf("Verify(%s) = %v; want nil", got.URL, err)
				}
				if res.Hash != want {
					t.Errorf("verified hash = %s; want %s", res.Hash, want)
				}
				exp, _ := time.Parse(time.RFC3339, tc.wantExp)
				if _, err := verifyURL(t, got.URL, exp, tc.clientIP); !errors.Is(err, cfsign.ErrExpired) {
					t.Errorf("Verify at expires_at = %v; want ErrExpired", err)
				}
			})
		}
	}
}

// TestSignURLCustomConditions checks that the custom conditions reach the
// policy: another client, or a request before not_before, is refused.
func TestSignURLCustomConditions(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	var got urlResult
	decode(t, f.post("/v1/sign/url", f.token, `{"url": "https://media.example.com/videos/x/index.m3u8",
		"resource": "https://media.example.com/videos/x/*", "ip": "203.0.113.0/24",
		"not_before": 1893412830, "expires_in": 900}`), &got)
	tests := []struct {
		name string
		at   time.Time
		ip   string
		want error
	}{
		{"in range, after not_before", testNow.Add(time.Minute), "203.0.113.200", nil},
		{"another client", testNow.Add(time.Minute), "198.51.100.1", cfsign.ErrIPMismatch},
		{"before not_before", testNow.Add(29 * time.Second), "203.0.113.200", cfsign.ErrNotYetValid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifyURL(t, got.URL, tc.at, tc.ip)
			if !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v; want %v", err, tc.want)
			}
		})
	}
}

func TestSignCookies(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantNames []string
		wantPath  string
		allowed   string // a target the cookies authorise
		refused   string // a target they do not
	}{{
		name:      "canned: exactly one URL",
		body:      `{"url": "https://media.example.com/reports/q3.pdf", "expires_in": 600}`,
		wantNames: []string{"CloudFront-Expires", "CloudFront-Signature", "CloudFront-Key-Pair-Id"},
		wantPath:  "/reports/",
		allowed:   "/reports/q3.pdf",
		refused:   "/reports/q4.pdf",
	}, {
		name:      "custom: a stream's directory",
		body:      `{"url": "https://media.example.com/videos/x/index.m3u8", "resource": "https://media.example.com/videos/x/*", "expires_in": 43200}`,
		wantNames: []string{"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"},
		wantPath:  "/videos/x/",
		allowed:   "/videos/x/seg-00042.ts?v=1",
		refused:   "/videos/y/seg-00042.ts",
	}, {
		name:      "custom: the path stops at the last '/' before a wildcard",
		body:      `{"distribution": "media", "key": "videos/x/a.ts", "resource": "https://media.example.com/videos/x/a*", "expires_in": 60}`,
		wantNames: []string{"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"},
		wantPath:  "/videos/x/",
		allowed:   "/videos/x/ab.ts",
		refused:   "/videos/x/b.ts",
	}}
	for _, kt := range []string{"p256", "rsa"} {
		f := newFixture(t, fixtureOptions{rsa: kt == "rsa"})
		for _, tc := range tests {
			t.Run(kt+"/"+tc.name, func(t *testing.T) {
				var got cookiesResult
				decode(t, f.post("/v1/sign/cookies", f.token, tc.body), &got)
				want := tc.wantNames
				if kt == "p256" {
					want = append(want[:len(want):len(want)], "CloudFront-Hash-Algorithm")
				}
				var names []string
				for _, c := range got.Cookies {
					names = append(names, c.Name)
					wantLine := c.Name + "=" + c.Value + "; Path=" + tc.wantPath + "; Secure; HttpOnly; SameSite=Lax"
					if c.SetCookie != wantLine {
						t.Errorf("set_cookie = %q; want %q", c.SetCookie, wantLine)
					}
				}
				if strings.Join(names, ",") != strings.Join(want, ",") {
					t.Errorf("cookies = %v; want %v", names, want)
				}
				at := testNow.Add(time.Second)
				if _, err := verifyCookies(t, got, "https", "media.example.com", tc.allowed, at); err != nil {
					t.Errorf("Verify(%s) = %v; want nil", tc.allowed, err)
				}
				if _, err := verifyCookies(t, got, "https", "media.example.com", tc.refused, at); !errors.Is(err, cfsign.ErrResourceMismatch) && !errors.Is(err, cfsign.ErrBadSignature) {
					t.Errorf("Verify(%s) = %v; want a resource mismatch", tc.refused, err)
				}
			})
		}
	}
}

// refusals are requests every signing endpoint refuses, each with its
// status and code. Those marked syntax are not JSON, so they cannot be a
// batch item.
var refusals = []struct {
	name   string
	body   string
	status int
	code   string
	syntax bool
}{
	{"not JSON", `{"url":`, 400, "bad_json", true},
	{"data after the object", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60} {}`, 400, "bad_json", true},
	{"empty body", ``, 400, "bad_json", true},
	{"wrong type", `{"url": 5, "expires_in": 60}`, 400, "bad_json", false},
	{"not an object", `["https://media.example.com/reports/a.pdf"]`, 400, "bad_json", false},
	{"unknown field", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60, "expiry": 60}`, 400, "unknown_field", false},
	{"no url or key", `{"expires_in": 60}`, 400, "invalid_target", false},
	{"url and key", `{"url": "https://media.example.com/reports/a.pdf", "distribution": "media", "key": "reports/a.pdf", "expires_in": 60}`, 400, "invalid_target", false},
	{"distribution without key", `{"distribution": "media", "expires_in": 60}`, 400, "invalid_target", false},
	{"upper-case host", `{"url": "https://Media.example.com/reports/a.pdf", "expires_in": 60}`, 400, "invalid_url", false},
	{"no path", `{"url": "https://media.example.com", "expires_in": 60}`, 400, "invalid_url", false},
	{"signing parameter in url", `{"url": "https://media.example.com/reports/a.pdf?Expires=1", "expires_in": 60}`, 400, "invalid_url", false},
	{"relative url", `{"url": "/reports/a.pdf", "expires_in": 60}`, 400, "invalid_url", false},
	{"dot segment", `{"url": "https://media.example.com/reports/../private/a.pdf", "expires_in": 60}`, 400, "invalid_url", false},
	{"space in url", `{"url": "https://media.example.com/reports/a b.pdf", "expires_in": 60}`, 400, "invalid_url", false},
	{"unknown host", `{"url": "https://other.example.com/reports/a.pdf", "expires_in": 60}`, 400, "unknown_distribution", false},
	{"another scheme", `{"url": "http://media.example.com/reports/a.pdf", "expires_in": 60}`, 400, "unknown_distribution", false},
	{"unknown name", `{"distribution": "nope", "key": "reports/a.pdf", "expires_in": 60}`, 400, "unknown_distribution", false},
	{"key with a leading slash", `{"distribution": "media", "key": "/reports/a.pdf", "expires_in": 60}`, 400, "invalid_key", false},
	{"key with a dot segment", `{"distribution": "media", "key": "reports/../a.pdf", "expires_in": 60}`, 400, "invalid_key", false},
	{"key with an empty segment", `{"distribution": "media", "key": "reports//a.pdf", "expires_in": 60}`, 400, "invalid_key", false},
	{"no expiry", `{"url": "https://media.example.com/reports/a.pdf"}`, 400, "invalid_expiry", false},
	{"both expiries", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60, "expires_at": 1893416400}`, 400, "invalid_expiry", false},
	{"expires_in zero", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 0}`, 400, "invalid_expiry", false},
	{"expires_in negative", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": -60}`, 400, "invalid_expiry", false},
	{"expires_in fraction", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 1.5}`, 400, "invalid_expiry", false},
	{"expires_in text", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": "1h"}`, 400, "invalid_expiry", false},
	{"expires_at past", `{"url": "https://media.example.com/reports/a.pdf", "expires_at": "2029-12-31T11:59:59Z"}`, 400, "invalid_expiry", false},
	{"expires_at now", `{"url": "https://media.example.com/reports/a.pdf", "expires_at": 1893412800}`, 400, "invalid_expiry", false},
	{"expires_at after 2038", `{"url": "https://media.example.com/reports/a.pdf", "expires_at": "2040-01-01T00:00:00Z"}`, 400, "invalid_expiry", false},
	{"expires_at not a time", `{"url": "https://media.example.com/reports/a.pdf", "expires_at": "tomorrow"}`, 400, "invalid_time", false},
	{"expires_at in milliseconds", `{"url": "https://media.example.com/reports/a.pdf", "expires_at": 1893416400000}`, 400, "invalid_time", false},
	{"expires_at an object", `{"url": "https://media.example.com/reports/a.pdf", "expires_at": {}}`, 400, "invalid_time", false},
	{"not_before not a time", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60, "not_before": "soon"}`, 400, "invalid_time", false},
	{"not_before after the expiry", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60, "not_before": 1893412860}`, 400, "invalid_not_before", false},
	{"ipv6 address", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60, "ip": "2001:db8::1"}`, 400, "invalid_ip", false},
	{"ipv6 range", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60, "ip": "2001:db8::/32"}`, 400, "invalid_ip", false},
	{"host bits set", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60, "ip": "203.0.113.7/24"}`, 400, "invalid_ip", false},
	{"not an ip", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60, "ip": "localhost"}`, 400, "invalid_ip", false},
	{"resource does not cover the url", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60, "resource": "https://media.example.com/videos/*"}`, 400, "invalid_resource", false},
	{"resource with a bad escape", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60, "resource": "https://media.example.com/reports/\\x*"}`, 400, "invalid_resource", false},
	{"unknown hash", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60, "hash": "md5"}`, 400, "invalid_hash", false},
	{"signed url or cookie too long", `{"url": "https://media.example.com/reports/` + strings.Repeat("a", 4000) + `", "ip": "192.0.2.1", "expires_in": 60}`, 400, "too_long", false},
	{"out of the token's prefixes", `{"url": "https://media.example.com/private/a.pdf", "expires_in": 60}`, 403, "out_of_scope", false},
	{"key out of the token's prefixes", `{"distribution": "media", "key": "private/a.pdf", "expires_in": 60}`, 403, "out_of_scope", false},
	{"prefix without its slash", `{"distribution": "media", "key": "reports", "expires_in": 60}`, 403, "out_of_scope", false},
	{"wildcard escaping its prefix", `{"url": "https://media.example.com/videos/x/a.ts", "expires_in": 60, "resource": "https://media.example.com/videos*"}`, 403, "out_of_scope", false},
	{"wildcard domain without the whole distribution", `{"url": "https://media.example.com/videos/x/a.ts", "expires_in": 60, "resource": "https://media.example.com*"}`, 403, "out_of_scope", false},
	{"wildcard domain, path in scope", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60, "resource": "https://media*/reports/*"}`, 403, "out_of_scope", false},
	{"wildcard protocol, path in scope", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60, "resource": "http*://media.example.com/reports/*"}`, 403, "out_of_scope", false},
	{"a bare * without the whole distribution", `{"url": "https://media.example.com/videos/x/a.ts", "expires_in": 60, "resource": "*"}`, 403, "out_of_scope", false},
	{"over the distribution's 7-day cap", `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 604801}`, 422, "lifetime_too_long", false},
	{"over strict's 1h cap", `{"url": "https://strict.example.com/a.pdf", "ip": "192.0.2.1", "expires_in": 3601}`, 422, "lifetime_too_long", false},
	{"no ip where required", `{"url": "https://strict.example.com/a.pdf", "expires_in": 60}`, 422, "ip_required", false},
	{"over-broad: *", `{"url": "https://strict.example.com/a.pdf", "ip": "192.0.2.1", "expires_in": 60, "resource": "*"}`, 422, "over_broad", false},
	{"over-broad: the whole host", `{"url": "https://strict.example.com/a.pdf", "ip": "192.0.2.1", "expires_in": 60, "resource": "https://strict.example.com/*"}`, 422, "over_broad", false},
	{"over-broad: every .pdf on the host", `{"url": "https://strict.example.com/a.pdf", "ip": "192.0.2.1", "expires_in": 60, "resource": "https://strict.example.com/*.pdf"}`, 422, "over_broad", false},
	{"over-broad: wildcard protocol", `{"url": "https://strict.example.com/a/b.pdf", "ip": "192.0.2.1", "expires_in": 60, "resource": "http*://strict.example.com/a/*"}`, 422, "over_broad", false},
	{"over-broad: domain wildcard", `{"url": "https://strict.example.com/a/b.pdf", "ip": "192.0.2.1", "expires_in": 60, "resource": "https://strict*/a/*"}`, 422, "over_broad", false},
	{"over-broad: leading domain wildcard", `{"url": "https://strict.example.com/a/b.pdf", "ip": "192.0.2.1", "expires_in": 60, "resource": "*example.com/a/*"}`, 422, "over_broad", false},
}

func TestRefusals(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	for _, path := range []string{"/v1/sign/url", "/v1/sign/cookies"} {
		for _, tc := range refusals {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				r := f.post(path, f.token, tc.body)
				if r.status != tc.status || r.code() != tc.code {
					t.Errorf("POST %s %s = %d %s; want %d %s", path, tc.body, r.status, r.code(), tc.status, tc.code)
				}
				if ct := r.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q; want application/json", ct)
				}
			})
		}
	}
	// In a batch, each refusal is its item's error, next to a good item.
	for _, tc := range refusals {
		if tc.syntax {
			continue
		}
		t.Run("/v1/sign/urls/"+tc.name, func(t *testing.T) {
			body := `{"items": [` + tc.body + `, {"url": "https://media.example.com/reports/ok.pdf", "expires_in": 60}]}`
			var got struct {
				Items []json.RawMessage `json:"items"`
			}
			decode(t, f.post("/v1/sign/urls", f.token, body), &got)
			if len(got.Items) != 2 {
				t.Fatalf("items = %d; want 2", len(got.Items))
			}
			r := &response{status: 0, body: got.Items[0]}
			if r.code() != tc.code {
				t.Errorf("item 0 = %s; want code %s", got.Items[0], tc.code)
			}
			var ok urlResult
			if err := json.Unmarshal(got.Items[1], &ok); err != nil || ok.URL == "" {
				t.Errorf("item 1 = %s; want a signed URL", got.Items[1])
			}
		})
	}
	// The log names each refusal's cause, never the resource pattern or
	// IP range it asked for: no log line carries any part of a policy.
	logs := f.logs.String()
	for _, tc := range refusals {
		var req struct{ Resource, IP string }
		json.Unmarshal([]byte(tc.body), &req)
		for _, v := range []string{req.Resource, req.IP} {
			if len(v) >= 8 && strings.Contains(logs, v) {
				t.Errorf("%s: the log holds %q from the request's policy", tc.name, v)
			}
		}
	}
	if !strings.Contains(logs, "resource does not cover the url") || !strings.Contains(logs, "ip has host bits set") {
		t.Errorf("the log lacks the refusals' causes:\n%s", logs)
	}
}

// TestRefusalsP256SHA1: an ECDSA key signs only SHA256.
func TestRefusalsP256SHA1(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r := f.post("/v1/sign/url", f.token, `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60, "hash": "sha1"}`)
	if r.status != 400 || r.code() != "invalid_hash" {
		t.Errorf("sha1 with P-256 = %d %s; want 400 invalid_hash", r.status, r.code())
	}
}

// TestLifetimeCapMessage checks the lifetime caps: the smaller of the
// token's and the distribution's applies, and the message states it. The
// archive distribution's cap is cfsign.MaxLifetime: it signs links up to
// CloudFront's last second and refuses the next with a message that says so.
func TestLifetimeCapMessage(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	short := f.newToken([]signapi.Scope{{Distribution: "media", Prefixes: []string{""}}, {Distribution: "strict", Prefixes: []string{""}}}, 10*time.Minute, signapi.Rate{})
	month := f.newToken([]signapi.Scope{{Distribution: "archive", Prefixes: []string{""}}}, 30*24*time.Hour, signapi.Rate{})
	left := cfsign.MaxEpoch - testNow.Unix() // seconds from testNow to 2038
	archive := func(expiry string) string {
		return `{"distribution": "archive", "key": "a.pdf", ` + expiry + `}`
	}
	tests := []struct {
		name, token, body string
		status            int
		want              string // a part of the message, or a 200's expires_at
	}{
		{"distribution cap", f.token, `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 604801}`, 422, "604800 seconds"},
		{"token cap below the distribution's", short, `{"url": "https://media.example.com/a.pdf", "expires_in": 601}`, 422, "600 seconds"},
		{"token cap reached", short, `{"url": "https://media.example.com/a.pdf", "expires_in": 600}`, 200, "2029-12-31T12:10:00Z"},
		{"distribution cap below the token's", short, `{"url": "https://strict.example.com/a.pdf", "ip": "192.0.2.1", "expires_in": 601}`, 422, "600 seconds"},
		{"eight years", f.token, archive(`"expires_in": 252460800`), 200, "2037-12-31T12:00:00Z"},
		{"CloudFront's last second", f.token, archive(`"expires_at": "2038-01-19T03:14:07Z"`), 200, "2038-01-19T03:14:07Z"},
		{"the same by expires_in", f.token, archive(fmt.Sprintf(`"expires_in": %d`, left)), 200, "2038-01-19T03:14:07Z"},
		{"one second later", f.token, archive(fmt.Sprintf(`"expires_in": %d`, left+1)), 400,
			"the expiry is after 2038-01-19T03:14:07Z, the latest CloudFront accepts"},
		{"twenty years", f.token, archive(`"expires_in": 630720000`), 400, "after 2038-01-19T03:14:07Z"},
		{"within the token's 30 days", month, archive(`"expires_in": 2592000`), 200, "2030-01-30T12:00:00Z"},
		{"over the token's 30 days", month, archive(`"expires_in": 2592001`), 422, "2592000 seconds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.post("/v1/sign/url", tc.token, tc.body)
			if r.status != tc.status {
				t.Fatalf("status = %d (%s); want %d", r.status, r.body, tc.status)
			}
			if r.status != 200 {
				if !strings.Contains(r.message(), tc.want) {
					t.Errorf("message = %q; want it to contain %q", r.message(), tc.want)
				}
				return
			}
			var got urlResult
			decode(t, r, &got)
			if got.ExpiresAt != tc.want {
				t.Errorf("expires_at = %s; want %s", got.ExpiresAt, tc.want)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	mediaOnly := f.newToken([]signapi.Scope{{Distribution: "media", Prefixes: []string{"videos/x/"}}}, 0, signapi.Rate{})
	whole := f.newToken([]signapi.Scope{{Distribution: "media", Prefixes: []string{""}}}, 0, signapi.Rate{})
	split := f.newToken([]signapi.Scope{
		{Distribution: "media", Prefixes: []string{"a/"}},
		{Distribution: "media", Prefixes: []string{"b/"}},
	}, 0, signapi.Rate{})
	tests := []struct {
		name, token, body string
		want              int
	}{
		{"prefix", mediaOnly, `{"distribution": "media", "key": "videos/x/a.ts", "expires_in": 60}`, 200},
		{"sibling of the prefix", mediaOnly, `{"distribution": "media", "key": "videos/xy/a.ts", "expires_in": 60}`, 403},
		{"wildcard under the prefix", mediaOnly, `{"url": "https://media.example.com/videos/x/a.ts", "resource": "https://media.example.com/videos/x/*", "expires_in": 60}`, 200},
		{"wildcard at the prefix without its slash", mediaOnly, `{"url": "https://media.example.com/videos/x/a.ts", "resource": "https://media.example.com/videos/x*", "expires_in": 60}`, 403},
		{"wildcard in the query only", mediaOnly, `{"url": "https://media.example.com/videos/x/a.ts?v=1", "resource": "https://media.example.com/videos/x/a.ts?*", "expires_in": 60}`, 200},
		{"escaped star: signet never signs a backslash", mediaOnly, `{"url": "https://media.example.com/videos/x/*a.ts", "resource": "https://media.example.com/videos/x/\\*a.ts", "expires_in": 60}`, 400},
		{"percent-encoded prefix decodes into scope", mediaOnly, `{"url": "https://media.example.com/videos/%78/a.ts", "resource": "https://media.example.com/videos/%78/*", "expires_in": 60}`, 200},
		{"a broken escape before the wildcard", mediaOnly, `{"url": "https://media.example.com/videos/x/%41.ts", "resource": "https://media.example.com/videos/x/%4*", "expires_in": 60}`, 403},
		{"another distribution", mediaOnly, `{"url": "https://broad.example.com/videos/x/a.ts", "expires_in": 60}`, 403},
		{"whole distribution", whole, `{"distribution": "media", "key": "anything/at/all.bin", "expires_in": 60}`, 200},
		{"whole distribution, still not over-broad", whole, `{"url": "https://media.example.com/a.bin", "resource": "https://media.example.com/*", "expires_in": 60}`, 422},
		{"scopes for one distribution add up: a/", split, `{"distribution": "media", "key": "a/1", "expires_in": 60}`, 200},
		{"scopes for one distribution add up: b/", split, `{"distribution": "media", "key": "b/1", "expires_in": 60}`, 200},
		{"scopes for one distribution add up: c/", split, `{"distribution": "media", "key": "c/1", "expires_in": 60}`, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.post("/v1/sign/url", tc.token, tc.body)
			if r.status != tc.want {
				t.Fatalf("status = %d (%s); want %d", r.status, r.body, tc.want)
			}
			if r.status != 200 {
				return
			}
			var got urlResult
			decode(t, r, &got)
			if _, err := verifyURL(t, got.URL, testNow.Add(time.Second), ""); err != nil {
				t.Errorf("Verify(%s) = %v; want nil", got.URL, err)
			}
		})
	}
}

// TestRequestErrors covers what is refused before a body is read.
func TestRequestErrors(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	revokedTok, revoked, err := f.store.Create("old", []signapi.Scope{{Distribution: "media", Prefixes: []string{""}}}, 0, signapi.Rate{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Revoke(revokedTok.ID); err != nil {
		t.Fatal(err)
	}
	wrong := f.token[:len(f.token)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(f.token, "A")]
	good := `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60}`
	items := func(n int) string {
		return `{"items": [` + strings.TrimSuffix(strings.Repeat(good+",", n), ",") + `]}`
	}
	tests := []struct {
		name, method, path, auth, contentType, body string
		status                                      int
		code                                        string
		header                                      string // "Name: value" the answer must carry
	}{
		{"no token", "POST", "/v1/sign/url", "", "application/json", good, 401, "unauthorized", `WWW-Authenticate: Bearer realm="signet"`},
		{"basic auth", "POST", "/v1/sign/url", "Basic dXNlcjpwYXNz", "application/json", good, 401, "unauthorized", `WWW-Authenticate: Bearer realm="signet"`},
		{"malformed token", "POST", "/v1/sign/url", "Bearer sgt_nope", "application/json", good, 401, "unauthorized", ""},
		{"wrong secret", "POST", "/v1/sign/url", "Bearer " + wrong, "application/json", good, 401, "unauthorized", ""},
		{"revoked token", "POST", "/v1/sign/url", "Bearer " + revoked, "application/json", good, 401, "unauthorized", ""},
		{"token before content type", "POST", "/v1/sign/url", "", "text/plain", good, 401, "unauthorized", ""},
		{"lower-case scheme", "POST", "/v1/sign/url", "bearer " + f.token, "application/json", good, 200, "", ""},
		{"text/plain", "POST", "/v1/sign/url", "Bearer " + f.token, "text/plain", good, 415, "unsupported_media_type", ""},
		{"no content type", "POST", "/v1/sign/urls", "Bearer " + f.token, "", items(1), 415, "unsupported_media_type", ""},
		{"charset parameter", "POST", "/v1/sign/cookies", "Bearer " + f.token, "application/json; charset=utf-8", good, 200, "", ""},
		{"GET a signing endpoint", "GET", "/v1/sign/url", "Bearer " + f.token, "", "", 405, "method_not_allowed", "Allow: POST"},
		{"POST the document", "POST", "/v1/openapi.json", "", "application/json", "{}", 405, "method_not_allowed", "Allow: GET"},
		{"unknown path", "POST", "/v1/sign/uri", "Bearer " + f.token, "application/json", good, 404, "not_found", ""},
		{"body too large", "POST", "/v1/sign/url", "Bearer " + f.token, "application/json", `{"url": "` + strings.Repeat("a", 70<<10) + `"}`, 413, "body_too_large", ""},
		{"batch of 100", "POST", "/v1/sign/urls", "Bearer " + f.token, "application/json", items(100), 200, "", ""},
		{"batch of 101", "POST", "/v1/sign/urls", "Bearer " + f.token, "application/json", items(101), 413, "batch_too_large", ""},
		{"empty batch", "POST", "/v1/sign/urls", "Bearer " + f.token, "application/json", `{"items": []}`, 400, "empty_batch", ""},
		{"no items", "POST", "/v1/sign/urls", "Bearer " + f.token, "application/json", `{}`, 400, "empty_batch", ""},
		{"batch with an unknown field", "POST", "/v1/sign/urls", "Bearer " + f.token, "application/json", `{"items": [` + good + `], "all": true}`, 400, "unknown_field", ""},
		{"items not an array", "POST", "/v1/sign/urls", "Bearer " + f.token, "application/json", `{"items": {}}`, 400, "bad_json", ""},
		{"batch not JSON", "POST", "/v1/sign/urls", "Bearer " + f.token, "application/json", `{"items": [`, 400, "bad_json", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequestWithContext(t.Context(), tc.method, tc.path, strings.NewReader(tc.body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			r := f.do(req)
			if r.status != tc.status || r.code() != tc.code {
				t.Errorf("%s %s = %d %q (%.200s); want %d %q", tc.method, tc.path, r.status, r.code(), r.body, tc.status, tc.code)
			}
			if tc.header != "" {
				name, value, _ := strings.Cut(tc.header, ": ")
				if got := r.header.Get(name); got != value {
					t.Errorf("%s = %q; want %q", name, got, value)
				}
			}
		})
	}
}

func TestBatch(t *testing.T) {
	f := newFixture(t, fixtureOptions{rsa: true})
	body := `{"items": [
		{"url": "https://media.example.com/reports/q3.pdf", "expires_in": 600},
		{"distribution": "media", "key": "private/x.pdf", "expires_in": 600},
		{"distribution": "media", "key": "reports/q4.pdf", "expires_in": 600, "hash": "sha256"},
		{"url": "https://media.example.com/reports/q3.pdf", "expires_in": 600, "colour": "red"},
		{"url": "https://strict.example.com/a.pdf", "expires_in": 600},
		{"url": "https://media.example.com/videos/v.mp4", "resource": "https://media.example.com/videos/*", "ip": "192.0.2.0/24", "expires_in": 600}
	]}`
	var got struct {
		Items []struct {
			URL       string `json:"url"`
			ExpiresAt string `json:"expires_at"`
			KeyID     string `json:"key_id"`
			Error     *struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		} `json:"items"`
	}
	decode(t, f.post("/v1/sign/urls", f.token, body), &got)
	want := []string{"", "out_of_scope", "", "unknown_field", "ip_required", ""}
	if len(got.Items) != len(want) {
		t.Fatalf("items = %d; want %d", len(got.Items), len(want))
	}
	for i, it := range got.Items {
		code := ""
		if it.Error != nil {
			code = it.Error.Code
			if it.URL != "" || it.KeyID != "" {
				t.Errorf("item %d has an error and a result", i)
			}
		}
		if code != want[i] {
			t.Errorf("item %d code = %q; want %q", i, code, want[i])
			continue
		}
		if code != "" {
			continue
		}
		if it.KeyID != "KRSATEST" || it.ExpiresAt != "2029-12-31T12:10:00Z" {
			t.Errorf("item %d = %+v; want key KRSATEST, expiry 2029-12-31T12:10:00Z", i, it)
		}
		if _, err := verifyURL(t, it.URL, testNow.Add(time.Second), "192.0.2.1"); err != nil {
			t.Errorf("item %d: Verify(%s) = %v; want nil", i, it.URL, err)
		}
	}
}

func TestMaxBatch(t *testing.T) {
	f := newFixture(t, fixtureOptions{maxBatch: 2})
	good := `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60}`
	if r := f.post("/v1/sign/urls", f.token, `{"items": [`+good+`,`+good+`]}`); r.status != 200 {
		t.Errorf("2 items = %d; want 200", r.status)
	}
	r := f.post("/v1/sign/urls", f.token, `{"items": [`+good+`,`+good+`,`+good+`]}`)
	if r.status != 413 || r.code() != "batch_too_large" || !strings.Contains(r.message(), "more than 2 items") {
		t.Errorf("3 items = %d %s %q; want 413 batch_too_large stating 2", r.status, r.code(), r.message())
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	limited := f.newToken([]signapi.Scope{{Distribution: "media", Prefixes: []string{""}}}, 0, signapi.Rate{PerSecond: 0.5, Burst: 3})
	good := `{"url": "https://media.example.com/a.pdf", "expires_in": 60}`
	batch := `{"items": [` + good + `,` + good + `]}`
	for i, path := range []string{"/v1/sign/url", "/v1/sign/urls", "/v1/sign/cookies"} {
		body := good
		if path == "/v1/sign/urls" {
			body = batch // a batch is one request
		}
		if r := f.post(path, limited, body); r.status != 200 {
			t.Fatalf("request %d = %d %s; want 200 within the burst", i, r.status, r.body)
		}
	}
	r := f.post("/v1/sign/url", limited, good)
	if r.status != 429 || r.code() != "rate_limited" {
		t.Fatalf("request after the burst = %d %s; want 429 rate_limited", r.status, r.code())
	}
	if got := r.header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q; want 2 (one request at 0.5/s)", got)
	}
	// A refused request takes nothing from the bucket, and the other
	// tokens have buckets of their own.
	if r := f.post("/v1/sign/url", f.token, `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60}`); r.status != 200 {
		t.Errorf("another token = %d; want 200", r.status)
	}
	f.clock.Add(1 * time.Second)
	if r := f.post("/v1/sign/url", limited, good); r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Errorf("after 1s = %d, Retry-After %q; want 429, 1", r.status, r.header.Get("Retry-After"))
	}
	f.clock.Add(1 * time.Second)
	if r := f.post("/v1/sign/url", limited, good); r.status != 200 {
		t.Errorf("after 2s = %d %s; want 200", r.status, r.body)
	}
	if r := f.post("/v1/sign/url", limited, good); r.status != 429 {
		t.Errorf("at once again = %d; want 429", r.status)
	}
}

func TestSignerFailures(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	good := `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60}`
	keyErr := errors.New("secretsmanager: AccessDenied")
	f.keyErr.Store(&keyErr)
	for _, path := range []string{"/v1/sign/url", "/v1/sign/cookies"} {
		if r := f.post(path, f.token, good); r.status != 502 || r.code() != "signer_unavailable" {
			t.Errorf("key source failing: %s = %d %s; want 502 signer_unavailable", path, r.status, r.code())
		}
	}
	f.keyErr.Store(nil)
	f.counter.fail.Store(true)
	if r := f.post("/v1/sign/url", f.token, good); r.status != 502 || r.code() != "signer_unavailable" {
		t.Errorf("signer failing = %d %s; want 502 signer_unavailable", r.status, r.code())
	}
	r := f.post("/v1/sign/urls", f.token, `{"items": [`+good+`]}`)
	if r.status != 200 || !strings.Contains(string(r.body), `"code":"signer_unavailable"`) {
		t.Errorf("batch with the signer failing = %d %s; want 200 with the item's signer_unavailable", r.status, r.body)
	}
	if !strings.Contains(f.logs.String(), "kms: throttled") || !strings.Contains(f.logs.String(), "secretsmanager: AccessDenied") {
		t.Errorf("log lacks the causes:\n%s", f.logs)
	}
	if strings.Contains(string(r.body), "throttled") {
		t.Errorf("body %s shows the private cause", r.body)
	}
	// A key the key source should never have given.
	bad := cfsign.Key{ID: "AKIAIOSFODNN7EXAMPLE", Signer: p256Key(), Hash: cfsign.SHA256}
	f.counter.fail.Store(false)
	f.key.Store(&bad)
	if r := f.post("/v1/sign/url", f.token, good); r.status != 502 {
		t.Errorf("IAM key id as key pair id = %d; want 502", r.status)
	}
}

func TestQuantisationCache(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	sign := func(path, body string) (string, string) {
		t.Helper()
		r := f.post(path, f.token, body)
		if r.status != 200 {
			t.Fatalf("%s = %d %s; want 200", path, r.status, r.body)
		}
		var v struct {
			ExpiresAt string `json:"expires_at"`
		}
		json.Unmarshal(r.body, &v)
		return string(r.body), v.ExpiresAt
	}
	calls := func() int64 { return f.counter.n.Load() }
	body := `{"url": "https://cached.example.com/v/a.mp4", "expires_in": 600}`

	// 12:00:00 + 600s = 12:10:00, a bucket boundary, kept as is.
	first, exp := sign("/v1/sign/url", body)
	if exp != "2029-12-31T12:10:00Z" || calls() != 1 {
		t.Fatalf("first: expires_at %s, %d signings; want 12:10:00, 1", exp, calls())
	}
	// 12:00:10 + 600s rounds up to 12:15:00: another bucket, another link.
	f.clock.Add(10 * time.Second)
	second, exp := sign("/v1/sign/url", body)
	if exp != "2029-12-31T12:15:00Z" || second == first || calls() != 2 {
		t.Fatalf("second: expires_at %s, %d signings; want 12:15:00, a new link, 2", exp, calls())
	}
	// Up to 12:05:00 every request rounds to 12:15:00: the same bytes,
	// and no signing.
	for _, step := range []time.Duration{time.Second, time.Minute, 3*time.Minute + 49*time.Second} {
		f.clock.Add(step)
		again, exp := sign("/v1/sign/url", body)
		if again != second || calls() != 2 {
			t.Errorf("at %s: expires_at %s, same link %t, %d signings; want the same link, 2 signings", f.clock.Now().Format(time.TimeOnly), exp, again == second, calls())
		}
	}
	var got urlResult
	json.Unmarshal([]byte(second), &got)
	if _, err := verifyURL(t, got.URL, f.clock.Now(), ""); err != nil {
		t.Errorf("cached link: Verify = %v; want nil", err)
	}
	// Cookies and URLs for the same resource are cached apart.
	cookies, _ := sign("/v1/sign/cookies", body)
	if calls() != 3 {
		t.Errorf("cookies: %d signings; want 3", calls())
	}
	if again, _ := sign("/v1/sign/cookies", body); again != cookies || calls() != 3 {
		t.Errorf("cookies again: same %t, %d signings; want the same, 3", again == cookies, calls())
	}
	// A batch item is served from the cache too.
	r := f.post("/v1/sign/urls", f.token, `{"items": [`+body+`]}`)
	if !strings.Contains(string(r.body), got.URL) || calls() != 3 {
		t.Errorf("batch: %s, %d signings; want the cached link, 3", r.body, calls())
	}
	// The cache holds two entries, the URL (just used by the batch) and
	// the cookies of a.mp4: a third link evicts the least recently used,
	// the cookies, which are then signed again.
	sign("/v1/sign/url", `{"url": "https://cached.example.com/v/b.mp4", "expires_in": 600}`)
	if calls() != 4 {
		t.Errorf("b.mp4: %d signings; want 4", calls())
	}
	if again, _ := sign("/v1/sign/cookies", body); again == cookies || calls() != 5 {
		t.Errorf("cookies after eviction: same %t, %d signings; want new cookies, 5", again == cookies, calls())
	}
	// A distribution without Quantum signs every time.
	n := calls()
	sign("/v1/sign/url", `{"url": "https://broad.example.com/a.mp4", "expires_in": 600}`)
	sign("/v1/sign/url", `{"url": "https://broad.example.com/a.mp4", "expires_in": 600}`)
	if calls() != n+2 {
		t.Errorf("without quantum: %d signings; want %d", calls()-n, 2)
	}
}

// TestQuantisationCap: rounding up would break the cap, so the expiry is
// rounded down, still one link per bucket.
func TestQuantisationCap(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	capped := f.newToken([]signapi.Scope{{Distribution: "cached", Prefixes: []string{""}}}, 10*time.Minute, signapi.Rate{})
	f.clock.Add(10 * time.Second)
	body := `{"url": "https://cached.example.com/a.mp4", "expires_in": 600}`
	var a, b urlResult
	decode(t, f.post("/v1/sign/url", capped, body), &a)
	f.clock.Add(time.Minute)
	decode(t, f.post("/v1/sign/url", capped, body), &b)
	if a.ExpiresAt != "2029-12-31T12:10:00Z" || b.URL != a.URL {
		t.Errorf("expires_at %s, same link %t; want 12:10:00 (rounded down to stay within 600s), the same link", a.ExpiresAt, b.URL == a.URL)
	}
}

// TestRotation: switching the key source's key changes key_id at once,
// and a cached link of the old key is not served for the new one.
func TestRotation(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	body := `{"url": "https://cached.example.com/a.mp4", "expires_in": 600}`
	var before, after urlResult
	decode(t, f.post("/v1/sign/url", f.token, body), &before)
	f.key.Store(&cfsign.Key{ID: "KRSATEST", Signer: rsaKey(), Hash: cfsign.SHA256})
	decode(t, f.post("/v1/sign/url", f.token, body), &after)
	if before.KeyID != "KP256TEST" || after.KeyID != "KRSATEST" || !strings.Contains(after.URL, "Key-Pair-Id=KRSATEST") {
		t.Fatalf("key ids = %s, %s (%s); want KP256TEST, KRSATEST", before.KeyID, after.KeyID, after.URL)
	}
	for _, u := range []string{before.URL, after.URL} {
		if _, err := verifyURL(t, u, testNow.Add(time.Second), ""); err != nil {
			t.Errorf("Verify(%s) = %v; want nil", u, err)
		}
	}
}

func TestStripPrefixAndOpenAPIRoute(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", f.h))
	for _, method := range []string{"GET", "HEAD"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), method, "/api/v1/openapi.json", nil))
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s /api/v1/openapi.json = %d %s; want 200 application/json", method, rec.Code, rec.Header().Get("Content-Type"))
		}
		if n, _ := strconv.Atoi(rec.Header().Get("Content-Length")); n < 1000 {
			t.Errorf("%s: Content-Length = %d; want the document's", method, n)
		}
	}
	req := httptest.NewRequestWithContext(t.Context(), "POST", "/api/v1/sign/url", strings.NewReader(`{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.token)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("POST /api/v1/sign/url = %d, Cache-Control %q; want 200, no-store", rec.Code, rec.Header().Get("Cache-Control"))
	}
	if strings.Contains(rec.Body.String(), `\u0026`) {
		t.Errorf("body %s escapes '&'", rec.Body)
	}
}

func TestNewValidates(t *testing.T) {
	store, err := openTokenStore(t, t.TempDir()+"/t.db", signapi.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ks := signapi.KeySourceFunc(func(context.Context) (cfsign.Key, error) { return cfsign.Key{}, nil })
	good := signapi.Distribution{Name: "m", BaseURL: "https://m.example.com", Key: ks}
	tests := []struct {
		name string
		cfg  signapi.Config
		want []string // each must appear in the error; none means valid
	}{
		{"valid", signapi.Config{Tokens: store, Distributions: []signapi.Distribution{good}}, nil},
		{"no tokens, no distributions, bad batch", signapi.Config{MaxBatch: -1},
			[]string{"tokens: required", "max_batch: -1", "distributions: at least one"}},
		{"bad distribution", signapi.Config{Tokens: store, Distributions: []signapi.Distribution{
			{BaseURL: "https://m.example.com/files", Quantum: 1500 * time.Millisecond, CacheSize: -1, MaxLifetime: -time.Hour},
		}}, []string{"distributions[0].name: empty", "distributions[0].base_url", "distributions[0].key: required",
			"distributions[0].max_lifetime", "distributions[0].quantum", "distributions[0].cache_size"}},
		{"upper-case host", signapi.Config{Tokens: store, Distributions: []signapi.Distribution{
			{Name: "m", BaseURL: "https://M.example.com", Key: ks}}}, []string{"distributions[0].base_url", "lower case"}},
		{"default port", signapi.Config{Tokens: store, Distributions: []signapi.Distribution{
			{Name: "m", BaseURL: "https://m.example.com:443", Key: ks}}}, []string{"distributions[0].base_url", "default port"}},
		{"a cap as long as a link can live", signapi.Config{Tokens: store, Distributions: []signapi.Distribution{
			{Name: "m", BaseURL: "https://m.example.com", Key: ks, MaxLifetime: cfsign.MaxLifetime}}}, nil},
		{"a cap longer than any link can live", signapi.Config{Tokens: store, Distributions: []signapi.Distribution{
			{Name: "m", BaseURL: "https://m.example.com", Key: ks, MaxLifetime: cfsign.MaxLifetime + time.Second}}},
			[]string{"distributions[0].max_lifetime: 596523h14m8s is over 24855d3h14m7s"}},
		{"quantum not below the cap", signapi.Config{Tokens: store, Distributions: []signapi.Distribution{
			{Name: "m", BaseURL: "https://m.example.com", Key: ks, MaxLifetime: time.Hour, Quantum: time.Hour}}}, []string{"distributions[0].quantum"}},
		{"duplicates", signapi.Config{Tokens: store, Distributions: []signapi.Distribution{good, good}},
			[]string{`distributions[1].name: "m" is used twice`, `distributions[1].base_url: "https://m.example.com" is used twice`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := signapi.New(tc.cfg)
			if (err == nil) != (tc.want == nil) {
				t.Fatalf("New() = %v; want error %t", err, tc.want != nil)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New() = %v; want it to contain %q", err, w)
				}
			}
		})
	}
}

// TestLogsNoSecrets runs successes and failures and checks that no token,
// signature, policy, cookie value or signed URL reaches the log.
func TestLogsNoSecrets(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	limited := f.newToken([]signapi.Scope{{Distribution: "media", Prefixes: []string{""}}}, 0, signapi.Rate{PerSecond: 1, Burst: 1})
	var secrets []string
	add := func(r *response) {
		var v struct {
			URL     string `json:"url"`
			Cookies []struct {
				Value     string `json:"value"`
				SetCookie string `json:"set_cookie"`
			} `json:"cookies"`
			Items []struct{ URL string }
		}
		json.Unmarshal(r.body, &v)
		if v.URL != "" {
			secrets = append(secrets, v.URL)
			q := v.URL[strings.IndexByte(v.URL, '?')+1:]
			for _, kv := range strings.Split(q, "&") {
				if name, val, _ := strings.Cut(kv, "="); name == "Signature" || name == "Policy" {
					secrets = append(secrets, val)
				}
			}
		}
		for _, c := range v.Cookies {
			if len(c.Value) > 20 {
				secrets = append(secrets, c.Value, c.SetCookie)
			}
		}
		for _, it := range v.Items {
			if it.URL != "" {
				secrets = append(secrets, it.URL)
			}
		}
	}
	wrong := f.token[:len(f.token)-4] + "AAAA"
	add(f.post("/v1/sign/url", f.token, `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60}`))
	add(f.post("/v1/sign/url", f.token, `{"url": "https://media.example.com/videos/x/a.ts", "resource": "https://media.example.com/videos/x/*", "expires_in": 60}`))
	add(f.post("/v1/sign/cookies", f.token, `{"url": "https://media.example.com/videos/x/a.ts", "resource": "https://media.example.com/videos/x/*", "expires_in": 60}`))
	add(f.post("/v1/sign/urls", f.token, `{"items": [{"url": "https://cached.example.com/a", "expires_in": 60}, {"url": "https://media.example.com/private/a", "expires_in": 60}]}`))
	f.post("/v1/sign/url", wrong, `{}`)
	f.post("/v1/sign/url", limited, `{"url": "https://media.example.com/a.pdf", "expires_in": 60}`)
	f.post("/v1/sign/url", limited, `{"url": "https://media.example.com/a.pdf", "expires_in": 60}`)
	f.post("/v1/sign/url", f.token, `{"url": "https://media.example.com/reports/a.pdf?Signature=abc", "expires_in": 60}`)
	secrets = append(secrets, f.token, wrong, limited, strings.TrimPrefix(f.token, f.token[:21]))
	if len(secrets) < 10 {
		t.Fatalf("collected %d secrets; the requests did not all succeed", len(secrets))
	}
	logs := f.logs.String()
	for _, want := range []string{`"msg":"request denied"`, `"msg":"link signed"`, `"code":"rate_limited"`, `"code":"out_of_scope"`, `"code":"unauthorized"`, `"token_id":"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("collected an empty secret")
		}
		if strings.Contains(logs, s) {
			t.Errorf("log contains the secret %.40s...:\n%s", s, logs)
		}
	}
}

// TestConcurrent signs from many goroutines, for the race detector.
func TestConcurrent(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	limited := f.newToken([]signapi.Scope{{Distribution: "cached", Prefixes: []string{""}}}, 0, signapi.Rate{PerSecond: 1000, Burst: 1000})
	errs := make(chan error, 16)
	for g := range 16 {
		go func() {
			for i := range 20 {
				body := fmt.Sprintf(`{"url": "https://cached.example.com/%d.mp4", "expires_in": 600}`, i%3)
				r := f.post("/v1/sign/url", limited, body)
				if r.status != 200 {
					errs <- fmt.Errorf("goroutine %d: %d %s", g, r.status, r.body)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestHashChoice: any key signs SHA256; SHA1 needs an in-process RSA key
// or a key whose default it is; no hash asked means the key's default.
func TestHashChoice(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	keys := map[string]cfsign.Key{
		"local RSA, SHA1":    {ID: "KRSATEST", Signer: rsaKey(), Hash: cfsign.SHA1},
		"remote RSA, SHA256": {ID: "KRSATEST", Signer: &countingSigner{Signer: rsaKey()}, Hash: cfsign.SHA256}, // as KMS
		"remote RSA, SHA1":   {ID: "KRSATEST", Signer: &countingSigner{Signer: rsaKey()}, Hash: cfsign.SHA1},
		"P-256":              {ID: "KP256TEST", Signer: p256Key(), Hash: cfsign.SHA256},
	}
	tests := []struct {
		key, ask string
		want     string // the Hash-Algorithm verified, or an error code
	}{
		{"local RSA, SHA1", "", "SHA1"},
		{"local RSA, SHA1", "sha1", "SHA1"},
		{"local RSA, SHA1", "sha256", "SHA256"},
		{"remote RSA, SHA256", "", "SHA256"},
		{"remote RSA, SHA256", "sha1", "invalid_hash"},
		{"remote RSA, SHA1", "sha256", "SHA256"},
		{"remote RSA, SHA1", "sha1", "SHA1"},
		{"P-256", "", "SHA256"},
		{"P-256", "sha1", "invalid_hash"},
		{"P-256", "sha-256", "SHA256"},
	}
	for _, tc := range tests {
		t.Run(tc.key+"/"+tc.ask, func(t *testing.T) {
			k := keys[tc.key]
			f.key.Store(&k)
			body := `{"url": "https://media.example.com/reports/a.pdf", "expires_in": 60, "hash": "` + tc.ask + `"}`
			r := f.post("/v1/sign/url", f.token, body)
			if r.status != 200 {
				if r.code() != tc.want {
					t.Errorf("hash %q = %d %s; want %s", tc.ask, r.status, r.code(), tc.want)
				}
				return
			}
			var got urlResult
			decode(t, r, &got)
			res, err := verifyURL(t, got.URL, testNow.Add(time.Second), "")
			if err != nil || res.Hash.String() != tc.want {
				t.Errorf("hash %q: verified %s, %v; want %s", tc.ask, res.Hash, err, tc.want)
			}
		})
	}
}
