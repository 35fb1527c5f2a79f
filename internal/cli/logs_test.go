package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/testenv"
)

// Strings that appear in the test's policies and nowhere else: no log line
// may carry them.
const (
	markerResource = "http://zq7-resource-marker.example/*"
	markerHost     = "zq7-resource-marker"
	markerIP       = "198.51.100.213"
	markerRange    = markerIP + "/32"
	markerExpires  = "0171717" // a canned Expires the verifier refuses, quoting it
)

// TestServeLogsNoPolicy sends a request for every kind of refusal, each
// carrying a policy whose resource and IP range are distinctive strings,
// and checks that neither those strings nor any Policy or Signature value
// appear in any log line, stdout (the access log) or stderr, while each
// access record still says which refusal it was. It runs with both
// log.format values, at log.level debug, and checks that both logs follow
// the format.
func TestServeLogsNoPolicy(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) { testLogsNoPolicy(t, format) })
	}
}

// logCase is one refused request: path (unique: it finds the access
// record), the query or cookie that carries the credentials, and what the
// edge must answer and log.
type logCase struct {
	name, path, query, cookie, method string
	status                            int
	reason                            string
}

func testLogsNoPolicy(t *testing.T, format string) {
	dir := t.TempDir()
	k, other := keygen(t, "ecdsa"), keygen(t, "ecdsa")
	files := filepath.Join(dir, "files")
	os.MkdirAll(files, 0o755)
	addr := testenv.FreeAddr(t)
	cfg := filepath.Join(dir, "signet.yaml")
	os.WriteFile(cfg, []byte(`
listeners: [{address: `+addr+`}]
log: {level: debug, format: `+format+`, access_log: true}
key_groups:
  main: [{id: `+k.id+`, public_key_file: `+k.pub+`}]
distributions:
  - name: d
    origin: {type: dir, dir: {path: `+files+`}}
    behaviors:
      - {path: "/cap/*", key_groups: [main], max_link_lifetime: 1h}
      - {path: "/ip/*", key_groups: [main], require_ip: true}
      - {path: "/tls/*", key_groups: [main], viewer_protocol: https-only}
      - {path: "*", key_groups: [main]}
`), 0o600)

	now := time.Now().Unix()
	signer := func(k key) *cfsign.Signer {
		data, err := os.ReadFile(k.priv)
		if err != nil {
			t.Fatal(err)
		}
		priv, err := cfsign.ParsePrivateKey(data)
		if err != nil {
			t.Fatal(err)
		}
		s, err := cfsign.NewSigner(k.id, priv, cfsign.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	mine, theirs := signer(k), signer(other)
	var secrets []string // every Policy and Signature value sent
	// custom signs policy (any bytes: the signer's checks are skipped, so
	// that malformed policies can be sent) and returns the query.
	custom := func(s *cfsign.Signer, policy string) string {
		sig, err := s.SignPolicy([]byte(policy))
		if err != nil {
			t.Fatal(err)
		}
		enc := cfsign.Encode([]byte(policy))
		secrets = append(secrets, enc, sig)
		return "Policy=" + enc + "&Signature=" + sig + "&Key-Pair-Id=" + s.KeyID() + "&Hash-Algorithm=SHA256"
	}
	policy := func(resource string, start, expires int64, ipRange string) string {
		var b strings.Builder
		b.WriteString(`{"Statement":[{`)
		if resource != "" {
			fmt.Fprintf(&b, `"Resource":%q,`, resource)
		}
		fmt.Fprintf(&b, `"Condition":{"DateLessThan":{"AWS:EpochTime":%d}`, expires)
		if start != 0 {
			fmt.Fprintf(&b, `,"DateGreaterThan":{"AWS:EpochTime":%d}`, start)
		}
		if ipRange != "" {
			fmt.Fprintf(&b, `,"IpAddress":{"AWS:SourceIp":%q}`, ipRange)
		}
		b.WriteString(`}}]}`)
		return b.String()
	}
	full := custom(mine, policy(markerResource, 0, now+3600, markerRange))
	without := func(q, name string) string {
		var kept []string
		for elem := range strings.SplitSeq(q, "&") {
			if n, _, _ := strings.Cut(elem, "="); n != name {
				kept = append(kept, elem)
			}
		}
		return strings.Join(kept, "&")
	}
	sig := queryValue(t, "x?"+full, "Signature")
	tampered := strings.Replace(full, "Signature="+sig, "Signature="+strings.Repeat("A", 8)+sig[8:], 1)

	cases := []logCase{
		{name: "no credentials", path: "/c01.txt", status: 403, reason: "no signing parameters"},
		{name: "missing key id", path: "/c02.txt", query: without(full, "Key-Pair-Id"), status: 403, reason: "Key-Pair-Id missing"},
		{name: "unknown key", path: "/c03.txt", query: custom(theirs, policy(markerResource, 0, now+3600, markerRange)), status: 403, reason: "key pair id not trusted"},
		{name: "missing signature", path: "/c04.txt", query: without(full, "Signature"), status: 403, reason: "Signature missing"},
		{name: "signature not base64", path: "/c05.txt", query: strings.Replace(full, "Signature="+sig, "Signature=abc+/==", 1), status: 403, reason: "Signature is not CloudFront base64"},
		{name: "expires and policy", path: "/c06.txt", query: full + "&Expires=" + strconv.FormatInt(now+60, 10), status: 403, reason: "both Expires and Policy"},
		{name: "no policy", path: "/c07.txt", query: without(full, "Policy"), status: 403, reason: "neither Expires nor Policy"},
		{name: "bad expires", path: "/c08.txt", query: "Expires=" + markerExpires + "&Signature=" + sig + "&Key-Pair-Id=" + k.id, status: 403, reason: "Expires is not a valid epoch"},
		{name: "policy not base64", path: "/c09.txt", query: strings.Replace(full, "Policy=", "Policy=!!", 1), status: 403, reason: "Policy is not CloudFront base64"},
		{name: "malformed policy", path: "/c10.txt", query: custom(mine, policy(markerResource, 0, now+3600, markerIP+"/33")), status: 403, reason: "malformed policy"},
		{name: "malformed resource", path: "/c11.txt", query: custom(mine, policy(markerHost+".example/x", 0, now+3600, "")), status: 403, reason: "malformed policy"},
		{name: "repeated parameter", path: "/c12.txt", query: full + "&Key-Pair-Id=" + k.id, status: 403, reason: "signing parameter repeated"},
		{name: "unknown hash", path: "/c13.txt", query: strings.Replace(full, "Hash-Algorithm=SHA256", "Hash-Algorithm=MD5", 1), status: 403, reason: "unknown Hash-Algorithm"},
		{name: "bad signature", path: "/c14.txt", query: tampered, status: 403, reason: "signature does not verify"},
		{name: "expired", path: "/c15.txt", query: custom(mine, policy(markerResource, 0, now-3600, markerRange)), status: 403, reason: "link expired"},
		{name: "not yet valid", path: "/c16.txt", query: custom(mine, policy(markerResource, now+3600, now+7200, markerRange)), status: 403, reason: "link not yet valid"},
		{name: "ip outside range", path: "/c17.txt", query: full, status: 403, reason: "client IP not allowed by policy"},
		{name: "ip outside range, cookies", path: "/c18.txt", cookie: strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(full,
			"Policy=", "CloudFront-Policy="), "&Signature=", "; CloudFront-Signature="), "&Key-Pair-Id=", "; CloudFront-Key-Pair-Id="), "&Hash-Algorithm=", "; CloudFront-Hash-Algorithm="),
			status: 403, reason: "client IP not allowed by policy"},
		{name: "resource mismatch", path: "/c19.txt", query: custom(mine, policy(markerResource, 0, now+3600, "")), status: 403, reason: "resource does not match policy"},
		{name: "no resource", path: "/c20.txt", query: custom(mine, policy("", 0, now+3600, markerRange)), status: 403, reason: "policy has no Resource"},
		{name: "lifetime over cap", path: "/cap/c21.txt", query: custom(mine, policy(markerResource, 0, now+3*3600, markerRange)), status: 403, reason: "link lifetime over the cap"},
		{name: "no ip binding", path: "/ip/c22.txt", query: custom(mine, policy(markerResource, 0, now+3600, "")), status: 403, reason: "link binds no client IP"},
		{name: "https required", path: "/tls/c23.txt", query: full, status: 403, reason: "behavior requires https"},
		{name: "method not allowed", path: "/c24.txt", query: full, method: "POST", status: 405, reason: "method not allowed"},
	}

	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr testenv.Buffer
	done := make(chan int, 1)
	go func() { done <- cli.Main(ctx, []string{"serve", "--config", cfg}, &stdout, &stderr) }()
	defer func() { cancel(); <-done }()
	waitTCP(t, addr)

	for _, tc := range cases {
		method := tc.method
		if method == "" {
			method = http.MethodGet
		}
		target := "http://" + addr + tc.path
		if tc.query != "" {
			target += "?" + tc.query
		}
		req, err := http.NewRequest(method, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.cookie != "" {
			req.Header.Set("Cookie", tc.cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d; want %d", tc.name, resp.StatusCode, tc.status)
		}
	}

	// Every request's access record, found by its path. Records are
	// written once the response is, so they are polled for.
	records := map[string]map[string]string{}
	testenv.Wait(t, "an access record per request", func() error {
		for _, line := range strings.Split(stdout.String(), "\n") {
			if line == "" {
				continue
			}
			rec, ok := parseLogLine(format, line)
			if !ok {
				t.Fatalf("stdout line is not a %s log record: %q", format, line)
			}
			records[rec["uri_stem"]] = rec
		}
		var missing []string
		for _, tc := range cases {
			if records[tc.path] == nil {
				missing = append(missing, tc.path)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("no access record for %v; stdout:\n%s", missing, stdout.String())
		}
		return nil
	})
	for _, tc := range cases {
		rec := records[tc.path]
		if rec["msg"] != "request" || !strings.Contains(rec["reason"], tc.reason) {
			t.Errorf("%s: access record %v; want reason %q", tc.name, rec, tc.reason)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if _, ok := parseLogLine(format, line); !ok {
			t.Errorf("stderr line is not a %s log record: %q", format, line)
		}
	}

	logs := stdout.String() + stderr.String()
	for _, s := range append([]string{markerHost, markerIP, markerExpires, "Statement", "SourceIp", "EpochTime"}, secrets...) {
		if strings.Contains(logs, s) {
			t.Errorf("the logs contain %q:\n%s", s, logs)
		}
	}
}

// parseLogLine reads one log line in format: a JSON object, or slog's
// text form (key=value, values quoted when they need it). It reports
// whether the line is one.
func parseLogLine(format, line string) (map[string]string, bool) {
	rec := map[string]string{}
	if format == "json" {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return nil, false
		}
		for k, v := range m {
			rec[k] = fmt.Sprint(v)
		}
		return rec, true
	}
	if !strings.HasPrefix(line, "time=") {
		return nil, false
	}
	for rest := line; rest != ""; {
		key, after, ok := strings.Cut(rest, "=")
		if !ok || key == "" || strings.ContainsAny(key, ` "`) {
			return nil, false
		}
		var value string
		if strings.HasPrefix(after, `"`) {
			q, err := strconv.QuotedPrefix(after)
			if err != nil {
				return nil, false
			}
			value, _ = strconv.Unquote(q)
			after = after[len(q):]
		} else {
			value, after, _ = strings.Cut(after, " ")
			after = " " + after
		}
		rec[key] = value
		rest = strings.TrimPrefix(after, " ")
	}
	return rec, true
}
