package lambdafn_test

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/config"
	"github.com/signet-dev/signet/internal/keysource"
	"github.com/signet-dev/signet/internal/lambdafn"
	"github.com/signet-dev/signet/internal/signapi"
	"github.com/signet-dev/signet/internal/testenv"
)

// fixture is a Handler and what its links are checked with.
type fixture struct {
	h      *lambdafn.Handler
	keyID  string
	pub    crypto.PublicKey
	tokens testTokens
	clock  *testenv.Clock
}

// signBody asks for a link to key valid for an hour.
func signBody(key string) string {
	return `{"distribution": "default", "key": "` + key + `", "expires_in": 3600}`
}

// legacyEvent is the legacy event for reports/Q3 2030.pdf expiring at
// 2030-06-03T12:01:02.000001Z, two and a half days after testNow.
func legacyEvent() map[string]any {
	return map[string]any{
		"fileName": "reports/Q3 2030.pdf",
		"Year":     "2030", "Month": "06", "Day": "03",
		"Hour": "12", "Minute": "01", "Second": "02", "Micro": "1",
	}
}

// runSuite invokes f.h with every event shape. f.clock must be at testNow.
func runSuite(t *testing.T, f fixture) {
	bearer := "Bearer " + f.tokens.a

	// checkURL checks a 200 answer's link to key, signed for an hour.
	checkURL := func(t *testing.T, r httpResponse, key string) {
		t.Helper()
		if r.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, body %s; want 200", r.StatusCode, strings.TrimSpace(r.Body))
		}
		if got := r.Headers["Content-Type"]; got != "application/json" {
			t.Errorf("Content-Type = %q; want application/json", got)
		}
		var b urlBody
		if err := json.Unmarshal([]byte(r.Body), &b); err != nil {
			t.Fatalf("body %s: %v", r.Body, err)
		}
		if !strings.HasPrefix(b.URL, baseURL+"/"+key+"?") {
			t.Errorf("url = %q; want %s/%s?...", b.URL, baseURL, key)
		}
		want := testNow.Add(time.Hour)
		if got := verify(t, b.URL, f.keyID, f.pub, testNow); got != want.Unix() {
			t.Errorf("link expires at %d; want %d", got, want.Unix())
		}
		if b.KeyID != f.keyID || b.ExpiresAt != want.Format(time.RFC3339) {
			t.Errorf("key_id, expires_at = %q, %q; want %q, %q", b.KeyID, b.ExpiresAt, f.keyID, want.Format(time.RFC3339))
		}
	}
	// checkError checks an error answer's status and code.
	checkError := func(t *testing.T, r httpResponse, status int, code string) {
		t.Helper()
		var b errorBody
		if err := json.Unmarshal([]byte(r.Body), &b); err != nil {
			t.Fatalf("body %s: %v", r.Body, err)
		}
		if r.StatusCode != status || b.Error.Code != code {
			t.Errorf("status, code = %d, %q (body %s); want %d, %q", r.StatusCode, b.Error.Code, r.Body, status, code)
		}
	}

	t.Run("function URL with a bearer token", func(t *testing.T) {
		r := invokeHTTP(t, f.h, functionURL("/v1/sign/url", bearer, signBody("videos/intro 1.mp4")))
		checkURL(t, r, "videos/intro%201.mp4")
	})
	t.Run("HTTP API on a named stage with a base64 body", func(t *testing.T) {
		r := invokeHTTP(t, f.h, events.APIGatewayV2HTTPRequest{
			Version:  "2.0",
			RouteKey: "ANY /{proxy+}",
			RawPath:  "/prod/v1/sign/url",
			Headers:  map[string]string{"authorization": bearer, "content-type": "application/json; charset=utf-8"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				Stage: "prod",
				HTTP:  events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/prod/v1/sign/url"},
			},
			Body:            base64.StdEncoding.EncodeToString([]byte(signBody("videos/a.mp4"))),
			IsBase64Encoded: true,
		})
		checkURL(t, r, "videos/a.mp4")
	})
	t.Run("REST API", func(t *testing.T) {
		r := invokeHTTP(t, f.h, events.APIGatewayProxyRequest{
			Resource:          "/{proxy+}",
			Path:              "/v1/sign/url",
			HTTPMethod:        "POST",
			MultiValueHeaders: map[string][]string{"Authorization": {bearer}, "Content-Type": {"application/json"}},
			Body:              signBody("videos/b.mp4"),
		})
		checkURL(t, r, "videos/b.mp4")
	})
	t.Run("function URL authenticated by IAM", func(t *testing.T) {
		ev := functionURL("/v1/sign/url", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20300601/us-east-1/lambda/aws4_request", signBody("docs/c.pdf"))
		ev.RequestContext.Authorizer = &events.LambdaFunctionURLRequestContextAuthorizerDescription{
			IAM: &events.LambdaFunctionURLRequestContextAuthorizerIAMDescription{UserARN: "arn:aws:iam::123456789012:user/app"},
		}
		checkURL(t, invokeHTTP(t, f.h, ev), "docs/c.pdf")
	})
	t.Run("HTTP API without a token", func(t *testing.T) {
		r := invokeHTTP(t, f.h, events.APIGatewayV2HTTPRequest{
			Version: "2.0",
			RawPath: "/v1/sign/url",
			Headers: map[string]string{"content-type": "application/json"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				Stage: "$default",
				HTTP:  events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"},
			},
			Body: signBody("videos/a.mp4"),
		})
		checkError(t, r, http.StatusUnauthorized, "unauthorized")
		if got := r.Headers["Www-Authenticate"]; got == "" {
			t.Errorf("WWW-Authenticate = %q; want a Bearer challenge", got)
		}
	})
	t.Run("function URL with a SigV4 header but no IAM authorizer", func(t *testing.T) {
		ev := functionURL("/v1/sign/url", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20300601/us-east-1/lambda/aws4_request", signBody("videos/a.mp4"))
		checkError(t, invokeHTTP(t, f.h, ev), http.StatusUnauthorized, "unauthorized")
	})
	t.Run("token out of scope", func(t *testing.T) {
		r := invokeHTTP(t, f.h, functionURL("/v1/sign/url", bearer, signBody("docs/c.pdf")))
		checkError(t, r, http.StatusForbidden, "out_of_scope")
	})
	t.Run("HTTP event without a method", func(t *testing.T) {
		ev := functionURL("/v1/sign/url", bearer, signBody("videos/a.mp4"))
		ev.RequestContext.HTTP.Method = ""
		checkError(t, invokeHTTP(t, f.h, ev), http.StatusBadRequest, "invalid_event")
	})
	t.Run("body marked base64 that is not", func(t *testing.T) {
		ev := functionURL("/v1/sign/url", bearer, "{not base64}")
		ev.IsBase64Encoded = true
		checkError(t, invokeHTTP(t, f.h, ev), http.StatusBadRequest, "invalid_event")
	})

	t.Run("malformed HTTP event", func(t *testing.T) {
		for _, tc := range []struct{ payload, want string }{
			{`{"version": "2.0", "requestContext": {}, "rawPath": 7}`, `{"statusCode":400,"headers":{"Cache-Control":"no-store","Content-Type":"application/json"},"multiValueHeaders":null,"body":"{\"error\":{\"code\":\"invalid_event\",\"message\":\"the event is not an HTTP API or Function URL request\"}}","cookies":null}`},
			{`{"httpMethod": 7}`, `{"statusCode":400,"headers":{"Cache-Control":"no-store","Content-Type":"application/json"},"multiValueHeaders":null,"body":"{\"error\":{\"code\":\"invalid_event\",\"message\":\"the event is not an API Gateway REST request\"}}"}`},
		} {
			if out, err := f.h.Invoke(t.Context(), []byte(tc.payload)); err != nil || string(out) != tc.want {
				t.Errorf("Invoke(%s) = %s, %v; want %s, nil", tc.payload, out, err, tc.want)
			}
		}
	})

	t.Run("legacy event", func(t *testing.T) {
		b := legacyLink(t, f.h)
		want := time.Date(2030, 6, 3, 12, 1, 2, 0, time.UTC) // Micro floored
		if !strings.HasPrefix(b.URL, baseURL+"/reports/Q3%202030.pdf?Expires="+strconv.FormatInt(want.Unix(), 10)+"&") {
			t.Errorf("url = %q; want %s/reports/Q3%%202030.pdf?Expires=%d&...", b.URL, baseURL, want.Unix())
		}
		if got := verify(t, b.URL, f.keyID, f.pub, testNow); got != want.Unix() {
			t.Errorf("link expires at %d; want %d", got, want.Unix())
		}
		if b.KeyID != f.keyID || b.ExpiresAt != want.Format(time.RFC3339) {
			t.Errorf("key_id, expires_at = %q, %q; want %q, %q", b.KeyID, b.ExpiresAt, f.keyID, want.Format(time.RFC3339))
		}
	})
	t.Run("legacy event refused", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			set      map[string]any // nil deletes
			code     string
			contains string
		}{
			{"month 13", map[string]any{"Month": "13"}, "invalid_date", "Month 13 is not in 1..12"},
			{"30 February", map[string]any{"Month": "2", "Day": "30", "Year": "2031"}, "invalid_date", "Day 30 is not in February 2031, which has 28 days"},
			{"29 February, not a leap year", map[string]any{"Month": "02", "Day": "29", "Year": "2031"}, "invalid_date", "which has 28 days"},
			{"31 June", map[string]any{"Day": "31"}, "invalid_date", "Day 31 is not in June 2030, which has 30 days"},
			{"hour 24", map[string]any{"Hour": "24"}, "invalid_date", "Hour 24 is not in 0..23"},
			{"second 60", map[string]any{"Second": 60}, "invalid_date", "Second 60 is not in 0..59"},
			{"micro 1000000", map[string]any{"Micro": "1000000"}, "invalid_date", "Micro 1000000 is not in 0..999999"},
			{"day 0", map[string]any{"Day": "0"}, "invalid_date", "Day 0 is not in 1..31"},
			{"non-numeric day", map[string]any{"Day": "3rd"}, "invalid_event", `Day "3rd" is not a whole number`},
			{"negative month", map[string]any{"Month": "-1"}, "invalid_event", "Month \"-1\" is not a whole number"},
			{"fractional year", map[string]any{"Year": 2030.5}, "invalid_event", "Year 2030.5 is not a whole number"},
			{"empty hour", map[string]any{"Hour": ""}, "invalid_event", `Hour "" is not a whole number`},
			{"missing Micro", map[string]any{"Micro": nil}, "invalid_event", "Micro is missing"},
			{"missing two", map[string]any{"Year": nil, "Minute": nil}, "invalid_event", "Year is missing; Minute is missing"},
			{"empty fileName", map[string]any{"fileName": ""}, "invalid_event", "fileName must be a non-empty string"},
			{"numeric fileName", map[string]any{"fileName": 7}, "invalid_event", "fileName must be a non-empty string"},
			{"past", map[string]any{"Year": "2022", "Month": "11", "Day": "27"}, "expiry_in_past", "the expiry 2022-11-27T12:01:02.000001Z is not in the future (it is now 2030-06-01T00:00:00Z)"},
			{"now", map[string]any{"Day": "01", "Hour": "0", "Minute": "0", "Second": "0", "Micro": "999999"}, "expiry_in_past", "is not in the future"},
			{"after 2038", map[string]any{"Year": "2040"}, "expiry_after_2038", "after 2038-01-19T03:14:07Z"},
			{"over the lifetime cap", map[string]any{"Month": "07"}, "lifetime_too_long", "maximum of 604800 seconds"},
			{"absolute fileName", map[string]any{"fileName": "/etc/passwd"}, "invalid_key", "key must be"},
			{"dot segment", map[string]any{"fileName": "a/../b"}, "invalid_key", "key must be"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ev := legacyEvent()
				for k, v := range tc.set {
					if v == nil {
						delete(ev, k)
					} else {
						ev[k] = v
					}
				}
				out, err := invoke(t, f.h, ev)
				if err == nil {
					t.Fatalf("Invoke(%v) = %s, nil; want a %s function error", ev, out, tc.code)
				}
				code, msg := functionError(t, err)
				if code != tc.code || !strings.Contains(msg, tc.contains) {
					t.Errorf("Invoke(%v) error = %s: %q; want %s: ...%q...", ev, code, msg, tc.code, tc.contains)
				}
			})
		}
	})
	t.Run("unknown event", func(t *testing.T) {
		for _, payload := range []string{
			`{}`, `[]`, `"fileName"`, `null`, `not json`, `{"version": "1.0"}`,
			`{"requestContext": {"http": {"method": "POST"}}}`, `{"Records": [{"eventSource": "aws:s3"}]}`,
		} {
			out, err := f.h.Invoke(t.Context(), []byte(payload))
			if err == nil {
				t.Errorf("Invoke(%s) = %s, nil; want an unknown_event function error", payload, out)
				continue
			}
			if code, msg := functionError(t, err); code != "unknown_event" || msg == "" {
				t.Errorf("Invoke(%s) error = %s: %q; want unknown_event and a message", payload, code, msg)
			}
		}
	})
}

// TestLocalKey runs the suite with an in-process key, and checks that no
// secret reaches the log.
func TestLocalKey(t *testing.T) {
	key := newECDSA(t)
	src, err := keysource.NewStatic(cfsign.Key{ID: "K2LOCALTEST", Signer: key, Hash: cfsign.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	tt := newTokens(t)
	st, err := signapi.ParseStaticTokens([]byte(tt.all))
	if err != nil {
		t.Fatal(err)
	}
	var logs testenv.Buffer
	c := testenv.NewClock(testNow)
	h, err := lambdafn.New(lambdafn.Config{
		BaseURL: baseURL,
		Key:     src,
		Tokens:  st,
		Now:     c.Now,
		Logger:  slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	runSuite(t, fixture{h: h, keyID: "K2LOCALTEST", pub: key.Public(), tokens: tt, clock: c})
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-7f3a"})
	if _, err := h.Invoke(ctx, []byte(`{"fileName": "x", "Year": "2022"}`)); err == nil {
		t.Fatal("Invoke(an incomplete legacy event) = nil error")
	}

	log := logs.String()
	for _, want := range []string{`"code":"out_of_scope"`, `"request_id":"req-7f3a"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	for _, secret := range []string{tt.a, "Signature=", "Policy=", "lambda_", "Bearer"} {
		if strings.Contains(log, secret) {
			t.Errorf("log holds %q:\n%s", secret, log)
		}
	}
}

// TestNoTokens checks that without Config.Tokens a bearer token is
// refused while IAM-authenticated and direct invocations still work.
func TestNoTokens(t *testing.T) {
	key := newECDSA(t)
	src, err := keysource.NewStatic(cfsign.Key{ID: "K2LOCALTEST", Signer: key, Hash: cfsign.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	h, err := lambdafn.New(lambdafn.Config{BaseURL: baseURL, Key: src, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	tt := newTokens(t)
	r := invokeHTTP(t, h, functionURL("/v1/sign/url", "Bearer "+tt.a, signBody("videos/a.mp4")))
	if r.StatusCode != http.StatusUnauthorized {
		t.Errorf("bearer token without Tokens: status %d; want 401", r.StatusCode)
	}
	if _, err := invoke(t, h, legacyEvent()); err != nil {
		t.Errorf("legacy event without Tokens: %v; want nil", err)
	}
}

// TestNew checks that New refuses a config it cannot serve, saying why.
func TestNew(t *testing.T) {
	src, err := keysource.NewStatic(cfsign.Key{ID: "K2LOCALTEST", Signer: newECDSA(t), Hash: cfsign.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	good := lambdafn.Config{BaseURL: baseURL, Key: src}
	for _, tc := range []struct {
		name   string
		change func(*lambdafn.Config)
		want   string
	}{
		{"no key", func(c *lambdafn.Config) { c.Key = nil }, "key: required"},
		{"base URL with a path", func(c *lambdafn.Config) { c.BaseURL = baseURL + "/media" }, "base_url"},
		{"no base URL", func(c *lambdafn.Config) { c.BaseURL = "" }, "base_url"},
		{"tiny lifetime", func(c *lambdafn.Config) { c.MaxLifetime = time.Millisecond }, "max_lifetime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.change(&cfg)
			if _, err := lambdafn.New(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New() error = %v; want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := lambdafn.New(good); err != nil {
		t.Errorf("New(good) = %v; want nil", err)
	}
}

// TestNewLogger checks that AWS_LAMBDA_LOG_LEVEL sets the level.
func TestNewLogger(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want slog.Level // the lowest level logged
	}{
		{"", slog.LevelInfo}, {"INFO", slog.LevelInfo}, {"debug", slog.LevelDebug}, {"TRACE", slog.LevelDebug},
		{"WARN", slog.LevelWarn}, {"ERROR", slog.LevelError}, {"FATAL", slog.LevelError}, {"loud", slog.LevelInfo},
	} {
		var buf testenv.Buffer
		log := lambdafn.NewLogger(&buf, func(k string) string {
			if k == "AWS_LAMBDA_LOG_LEVEL" {
				return tc.env
			}
			return ""
		})
		for _, l := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
			if got := log.Enabled(t.Context(), l); got != (l >= tc.want) {
				t.Errorf("AWS_LAMBDA_LOG_LEVEL=%q: Enabled(%v) = %v; want %v", tc.env, l, got, l >= tc.want)
			}
		}
		log.Error("x", "k", "v")
		if !strings.Contains(buf.String(), `"level":"ERROR","msg":"x","k":"v"`) {
			t.Errorf("AWS_LAMBDA_LOG_LEVEL=%q: record %q; want JSON", tc.env, buf.String())
		}
	}
}

// TestConfigFromEnvErrors checks that every problem of the environment is
// reported at once, before any AWS call.
func TestConfigFromEnvErrors(t *testing.T) {
	tt := newTokens(t)
	base := map[string]string{
		"SIGNET_BASE_URL":  baseURL,
		"SIGNET_SECRET_ID": "signet/key",
	}
	for _, tc := range []struct {
		name string
		env  map[string]string // "" deletes
		want []string
	}{
		{"nothing", map[string]string{"SIGNET_BASE_URL": "", "SIGNET_SECRET_ID": ""},
			[]string{"SIGNET_BASE_URL: required", "SIGNET_SECRET_ID or SIGNET_KMS_KEY_ID: one is required"}},
		{"both key sources", map[string]string{"SIGNET_KMS_KEY_ID": "alias/x"},
			[]string{"SIGNET_SECRET_ID and SIGNET_KMS_KEY_ID: set only one"}},
		{"KMS without key pair id", map[string]string{"SIGNET_SECRET_ID": "", "SIGNET_KMS_KEY_ID": "alias/x"},
			[]string{"SIGNET_KEY_PAIR_ID: required with SIGNET_KMS_KEY_ID"}},
		{"bad lifetime and tokens", map[string]string{"SIGNET_MAX_LIFETIME": "a week", "SIGNET_TOKENS": `[{"id": 1}]`},
			[]string{`SIGNET_MAX_LIFETIME: "a week" is not a duration`, "SIGNET_TOKENS: signapi: token records"}},
		{"lifetime below a second", map[string]string{"SIGNET_MAX_LIFETIME": "500ms"},
			[]string{"SIGNET_MAX_LIFETIME: 500ms is below 1s"}},
		{"lifetime longer than any link", map[string]string{"SIGNET_MAX_LIFETIME": "24856d"},
			[]string{"SIGNET_MAX_LIFETIME: 24856d is over 24855d3h14m7s, the longest any link can live (from 1970 to 2038-01-19T03:14:07Z)"}},
		{"IAM access key as key pair id", map[string]string{"SIGNET_KEY_PAIR_ID": "AKIAIOSFODNN7EXAMPLE"},
			[]string{"SIGNET_KEY_PAIR_ID: "}},
		{"both token sources", map[string]string{"SIGNET_TOKENS": tt.all, "SIGNET_TOKENS_SECRET_ID": "signet/tokens"},
			[]string{"SIGNET_TOKENS and SIGNET_TOKENS_SECRET_ID: set only one"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := maps.Clone(base)
			maps.Copy(env, tc.env)
			_, err := lambdafn.ConfigFromEnv(t.Context(), func(k string) string { return env[k] }, nil)
			if err == nil {
				t.Fatalf("ConfigFromEnv(%v) = nil error; want %q", env, tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ConfigFromEnv(%v) error = %v; want it to contain %q", env, err, w)
				}
			}
		})
	}
}

// TestLegacyFarAhead is the table in docs/lambda.md ("Moving from the old
// function"): what a legacy event dated far ahead gets under the default
// cap, a raised one and the largest, at testNow (2030-06-01T00:00:00Z).
// An expiry within the cap gets a link that expires then; one beyond it,
// lifetime_too_long; one after 2038-01-19T03:14:07Z, expiry_after_2038
// whatever the cap.
func TestLegacyFarAhead(t *testing.T) {
	key := newECDSA(t)
	src, err := keysource.NewStatic(cfsign.Key{ID: "K2LOCALTEST", Signer: key, Hash: cfsign.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	caps := []string{"", "400d", "24855d"} // SIGNET_MAX_LIFETIME; "" is the default, 7d
	tests := []struct {
		date string    // the event's instant, Micro 0
		want [3]string // per cap: the expires_at of a link, or the error type and message
	}{
		{"2030-06-05T12:00:00Z", [3]string{"2030-06-05T12:00:00Z", "2030-06-05T12:00:00Z", "2030-06-05T12:00:00Z"}},
		{"2031-06-01T00:00:00Z", [3]string{"lifetime_too_long: the lifetime exceeds the maximum of 604800 seconds",
			"2031-06-01T00:00:00Z", "2031-06-01T00:00:00Z"}},
		{"2038-01-19T03:14:07Z", [3]string{"lifetime_too_long: the lifetime exceeds the maximum of 604800 seconds",
			"lifetime_too_long: the lifetime exceeds the maximum of 34560000 seconds", "2038-01-19T03:14:07Z"}},
		{"2038-01-19T03:14:08Z", [3]string{
			"expiry_after_2038: legacy event: expiry 2038-01-19T03:14:08Z is after 2038-01-19T03:14:07Z, the latest CloudFront accepts",
			"expiry_after_2038: legacy event: expiry 2038-01-19T03:14:08Z is after 2038-01-19T03:14:07Z, the latest CloudFront accepts",
			"expiry_after_2038: legacy event: expiry 2038-01-19T03:14:08Z is after 2038-01-19T03:14:07Z, the latest CloudFront accepts"}},
		{"2099-12-31T00:00:00Z", [3]string{
			"expiry_after_2038: legacy event: expiry 2099-12-31T00:00:00Z is after 2038-01-19T03:14:07Z",
			"expiry_after_2038: legacy event: expiry 2099-12-31T00:00:00Z is after 2038-01-19T03:14:07Z",
			"expiry_after_2038: legacy event: expiry 2099-12-31T00:00:00Z is after 2038-01-19T03:14:07Z"}},
	}
	for i, capText := range caps {
		var life time.Duration
		if capText != "" {
			d, err := config.ParseDuration(capText)
			if err != nil {
				t.Fatal(err)
			}
			life = time.Duration(d)
		}
		h, err := lambdafn.New(lambdafn.Config{BaseURL: baseURL, Key: src, MaxLifetime: life, Now: func() time.Time { return testNow }})
		if err != nil {
			t.Fatalf("New(MaxLifetime %s) = %v", capText, err)
		}
		for _, tc := range tests {
			t.Run(tc.date+"/cap="+capText, func(t *testing.T) {
				at, err := time.Parse(time.RFC3339, tc.date)
				if err != nil {
					t.Fatal(err)
				}
				ev := legacyEvent()
				for k, v := range map[string]int{"Year": at.Year(), "Month": int(at.Month()), "Day": at.Day(),
					"Hour": at.Hour(), "Minute": at.Minute(), "Second": at.Second(), "Micro": 0} {
					ev[k] = fmt.Sprintf("%02d", v)
				}
				want := tc.want[i]
				out, err := invoke(t, h, ev)
				if err != nil {
					code, msg := functionError(t, err)
					if got := code + ": " + msg; !strings.HasPrefix(got, want) {
						t.Fatalf("Invoke(legacy event for %s) error = %s; want %s", tc.date, got, want)
					}
					return
				}
				var b urlBody
				if err := json.Unmarshal(out, &b); err != nil {
					t.Fatalf("result %s: %v", out, err)
				}
				if b.ExpiresAt != want {
					t.Fatalf("Invoke(legacy event for %s) expires_at = %s; want %s", tc.date, b.ExpiresAt, want)
				}
				if got := verify(t, b.URL, "K2LOCALTEST", key.Public(), testNow); got != at.Unix() {
					t.Errorf("link expires at %d; want %d", got, at.Unix())
				}
			})
		}
	}
}
