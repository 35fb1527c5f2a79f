package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/access"
	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/origintest"
)

// scrape returns the lines of m's /metrics answer that name one of the
// given metrics: their HELP, TYPE and samples.
func scrape(t *testing.T, m *metrics, names ...string) string {
	t.Helper()
	w := httptest.NewRecorder()
	promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	var out []string
	for line := range strings.SplitSeq(w.Body.String(), "\n") {
		for _, n := range names {
			if strings.HasPrefix(line, n+"{") || strings.HasPrefix(line, n+" ") ||
				strings.HasPrefix(line, "# HELP "+n+" ") || strings.HasPrefix(line, "# TYPE "+n+" ") {
				out = append(out, line)
			}
		}
	}
	return strings.Join(out, "\n")
}

// TestKeyUse holds the key-use statistics to what /metrics and /keys
// answer: names, help, labels and values in both, and the JSON of /keys.
func TestKeyUse(t *testing.T) {
	m := newMetrics()
	m.keys.trust("K1", "main", "d /private/*")
	m.keys.trust("K1", "main", "d /other/*")
	m.keys.trust("K1", "old", "d /private/*")
	m.keys.trust("K2", "old", "d /private/*")
	m.keys.trust("K3", "old", "e *") // trusted, never used
	t1 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	observe := func(keyID, result string, reason error, at time.Time) {
		m.Observe(&edge.Plan{Distribution: "d", Behavior: "/private/*", KeyID: keyID, Result: result, Reason: reason},
			&access.Record{Status: 200, Start: at})
	}
	expired := &cfsign.Error{Code: cfsign.AccessDenied, Reason: cfsign.ErrExpired}
	observe("K1", edge.ResultAllow, nil, t1)
	observe("K1", edge.ResultAllow, nil, t1.Add(time.Minute))
	observe("K1", edge.ResultRedirect, nil, t1.Add(30*time.Second)) // not a denial: allowed; the last one seen, whatever its start
	observe("K1", edge.ResultDeny, expired, t1.Add(time.Hour))
	observe("K2", edge.ResultDeny, expired, t1)
	observe("", edge.ResultDeny, &cfsign.Error{Code: cfsign.MissingKey, Reason: cfsign.ErrNoCredentials}, t1)

	want := `# HELP signet_key_last_seen_timestamp_seconds Unix time of the last request allowed with each key pair id; shows when an old key is safe to retire.
# TYPE signet_key_last_seen_timestamp_seconds gauge
signet_key_last_seen_timestamp_seconds{key_id="K1"} 1.893553475e+09
# HELP signet_key_requests_total Requests carrying each key pair id, by outcome (allowed or denied).
# TYPE signet_key_requests_total counter
signet_key_requests_total{key_id="K1",outcome="allowed"} 3
signet_key_requests_total{key_id="K1",outcome="denied"} 1
signet_key_requests_total{key_id="K2",outcome="denied"} 1`
	if got := scrape(t, m, "signet_key_requests_total", "signet_key_last_seen_timestamp_seconds"); got != want {
		t.Errorf("/metrics key use:\n%s\nwant:\n%s", got, want)
	}

	w := httptest.NewRecorder()
	m.keys.handler(w, httptest.NewRequest("GET", "/keys", nil))
	wantJSON := `{"keys":[` +
		`{"key_id":"K1","groups":["main","old"],"behaviors":["d /private/*","d /other/*"],"allowed":3,"denied":1,"last_seen":"2030-01-02T03:04:35Z"},` +
		`{"key_id":"K2","groups":["old"],"behaviors":["d /private/*"],"allowed":0,"denied":1,"last_seen":null},` +
		`{"key_id":"K3","groups":["old"],"behaviors":["e *"],"allowed":0,"denied":0,"last_seen":null}]}` + "\n"
	if got := w.Body.String(); got != wantJSON {
		t.Errorf("/keys =\n%s\nwant\n%s", got, wantJSON)
	}
	if ct, cc := w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
		t.Errorf("/keys Content-Type %q, Cache-Control %q; want application/json, no-store", ct, cc)
	}
}

// TestKeyUseEmpty: before any request, /metrics has no key-use series
// (only their HELP and TYPE) and /keys lists the trusted ids at zero.
func TestKeyUseEmpty(t *testing.T) {
	m := newMetrics()
	m.keys.trust("K1", "main", "d *")
	if got := scrape(t, m, "signet_key_requests_total", "signet_key_last_seen_timestamp_seconds"); got != "" {
		t.Errorf("/metrics before any request:\n%s\nwant no key-use lines", got)
	}
	w := httptest.NewRecorder()
	m.keys.handler(w, httptest.NewRequest("GET", "/keys", nil))
	want := `{"keys":[{"key_id":"K1","groups":["main"],"behaviors":["d *"],"allowed":0,"denied":0,"last_seen":null}]}` + "\n"
	if got := w.Body.String(); got != want {
		t.Errorf("/keys = %s; want %s", got, want)
	}
}

// reasonLabelsV1 are the reason labels of signet_denials_total as they were
// first published; dashboards and alerts use them, so they never change.
var reasonLabelsV1 = map[error]string{
	cfsign.ErrNoCredentials:    "no_credentials",
	cfsign.ErrMissingKeyID:     "missing_key_id",
	cfsign.ErrUnknownKey:       "unknown_key",
	cfsign.ErrMissingSignature: "missing_signature",
	cfsign.ErrBadSignatureB64:  "bad_signature_encoding",
	cfsign.ErrExpiresAndPolicy: "expires_and_policy",
	cfsign.ErrNoPolicy:         "no_policy",
	cfsign.ErrBadExpires:       "bad_expires",
	cfsign.ErrBadPolicyB64:     "bad_policy_encoding",
	cfsign.ErrBadPolicy:        "malformed_policy",
	cfsign.ErrRepeatedParam:    "repeated_parameter",
	cfsign.ErrUnknownHash:      "unknown_hash",
	cfsign.ErrBadSignature:     "bad_signature",
	cfsign.ErrExpired:          "expired",
	cfsign.ErrNotYetValid:      "not_yet_valid",
	cfsign.ErrIPMismatch:       "ip_mismatch",
	cfsign.ErrResourceMismatch: "resource_mismatch",
	cfsign.ErrNoResource:       "no_resource",
	cfsign.ErrLifetimeOverCap:  "lifetime_over_cap",
	cfsign.ErrNoIPBinding:      "no_ip_binding",
}

// TestDenialReasons checks the reason label of every cfsign sentinel, as
// the verifier returns it and wrapped, and "other" for anything else.
func TestDenialReasons(t *testing.T) {
	for reason, want := range reasonLabelsV1 {
		for _, err := range []error{
			&cfsign.Error{Code: cfsign.CodeOf(reason), Reason: reason, Detail: "x"},
			fmt.Errorf("verify: %w", &cfsign.Error{Code: cfsign.CodeOf(reason), Reason: reason}),
		} {
			if got := reasonLabel(err); got != want {
				t.Errorf("reasonLabel(%v) = %q; want %q", err, got, want)
			}
		}
	}
	for _, err := range []error{errors.New("edge: something else"), &cfsign.Error{Code: cfsign.AccessDenied, Reason: errors.New("new")}} {
		if got := reasonLabel(err); got != "other" {
			t.Errorf("reasonLabel(%v) = %q; want other", err, got)
		}
	}

	m := newMetrics()
	m.Observe(&edge.Plan{Result: edge.ResultDeny, Reason: &cfsign.Error{Code: cfsign.AccessDenied, Reason: cfsign.ErrExpired}}, &access.Record{Status: 403})
	m.Observe(&edge.Plan{Result: edge.ResultDeny, Reason: &cfsign.Error{Code: cfsign.InvalidKey, Reason: cfsign.ErrUnknownKey}}, &access.Record{Status: 403})
	m.Observe(&edge.Plan{Result: edge.ResultDeny, Reason: edge.ErrHTTPSRequired}, &access.Record{Status: 403}) // not a signature check
	want := `# HELP signet_denials_total Signed-link refusals by public code and private reason.
# TYPE signet_denials_total counter
signet_denials_total{code="AccessDenied",reason="expired"} 1
signet_denials_total{code="InvalidKey",reason="unknown_key"} 1`
	if got := scrape(t, m, "signet_denials_total"); got != want {
		t.Errorf("/metrics denials:\n%s\nwant:\n%s", got, want)
	}
}

// TestDropPort holds the hosts of the https redirect and the ACME host
// policy: the port goes, an IPv6 literal keeps its brackets.
func TestDropPort(t *testing.T) {
	for _, tc := range []struct{ host, target, location string }{
		{"example.com", "/a?b", "https://example.com/a?b"},
		{"example.com:8080", "/a", "https://example.com/a"},
		{"[::1]:8080", "/a", "https://[::1]/a"},
		{"[::1]", "/a", "https://[::1]/a"},
		{"127.0.0.1:80", "/", "https://127.0.0.1/"},
	} {
		r := httptest.NewRequest("GET", tc.target, nil)
		r.Host = tc.host
		w := httptest.NewRecorder()
		redirectToHTTPS(w, r)
		if got := w.Header().Get("Location"); w.Code != http.StatusMovedPermanently || got != tc.location {
			t.Errorf("redirectToHTTPS(%s%s) = %d %s; want 301 %s", tc.host, tc.target, w.Code, got, tc.location)
		}
	}
	allow := hostPolicy([]string{"media.example.com"})
	for host, ok := range map[string]bool{
		"media.example.com": true, "media.example.com:5002": true,
		"other.example.com": false, "other.example.com:5002": false, "[::1]:5002": false, "::1": false,
	} {
		if err := allow(t.Context(), host); (err == nil) != ok {
			t.Errorf("hostPolicy(%q) = %v; want allowed %v", host, err, ok)
		}
	}
}

// getterMem is an in-memory origin that is also an origin.Getter.
type getterMem struct{ *origintest.Mem }

func (g getterMem) Get(ctx context.Context, key string, n int64) (origin.Info, io.ReadCloser, error) {
	info, err := g.Stat(ctx, key)
	if err != nil {
		return info, nil, err
	}
	rc, err := g.Open(ctx, info, 0, n)
	return info, rc, err
}

// TestTimedGet: Get through the metrics decorator is timed as the one
// request it is, "get" from a Getter and "stat" from an origin that is not
// one; a missing object is an answer, not an error.
func TestTimedGet(t *testing.T) {
	m := newMetrics()
	mem := origintest.NewMem()
	mem.Put("a", []byte("abc"))
	if _, rc, err := instrument(mem, "plain", m).Get(t.Context(), "a", 2); err != nil || rc != nil {
		t.Errorf("Get over a plain origin = reader %v, %v; want no reader, no error", rc, err)
	}
	info, rc, err := instrument(getterMem{mem}, "getter", m).Get(t.Context(), "a", 2)
	if err != nil || rc == nil || info.Size != 3 {
		t.Fatalf("Get over a Getter = %+v, reader %v, %v; want the Info and a reader", info, rc, err)
	}
	rc.Close()
	instrument(getterMem{mem}, "getter", m).Get(t.Context(), "missing", 2)
	got := scrape(t, m, "signet_origin_duration_seconds_count")
	for _, want := range []string{
		`signet_origin_duration_seconds_count{distribution="getter",op="get",outcome="ok"} 2`,
		`signet_origin_duration_seconds_count{distribution="plain",op="stat",outcome="ok"} 1`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("/metrics:\n%s\nwant a line %s", got, want)
		}
	}
	if strings.Count(got, "\n")+1 != 2 {
		t.Errorf("/metrics:\n%s\nwant only those two series", got)
	}
}
