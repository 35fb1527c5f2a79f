package lambdafn_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/lambdafn"
	"github.com/signet-dev/signet/internal/signapi"
	"github.com/signet-dev/signet/internal/state/sqlite"
)

// The site links are for, and the moment the tests run at.
const (
	baseURL = "https://media.example.com"
	host    = "media.example.com"
)

var testNow = time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)

func newECDSA(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemOf(t testing.TB, k crypto.Signer) string {
	t.Helper()
	b, err := cfsign.MarshalPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testTokens are two bearer tokens scoped to videos/ of the default
// distribution, made and exported as `signet token` does.
type testTokens struct {
	a, b     string // secrets
	all      string // records of a and b
	withoutA string // records after revoking a
}

func newTokens(t testing.TB) testTokens {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "signet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	store, err := signapi.NewTokenStore(st, signapi.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	scopes := []signapi.Scope{{Distribution: lambdafn.DefaultDistribution, Prefixes: []string{"videos/"}}}
	var tt testTokens
	export := func() string {
		recs, err := store.Export()
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(recs)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tokA, secretA, err := store.Create("a", scopes, 0, signapi.Rate{})
	if err != nil {
		t.Fatal(err)
	}
	_, secretB, err := store.Create("b", scopes, 0, signapi.Rate{})
	if err != nil {
		t.Fatal(err)
	}
	tt.a, tt.b, tt.all = secretA, secretB, export()
	if err := store.Revoke(tokA.ID); err != nil {
		t.Fatal(err)
	}
	tt.withoutA = export()
	return tt
}

// invoke sends event, marshalled to JSON unless it is a string, to h.
func invoke(t testing.TB, h *lambdafn.Handler, event any) ([]byte, error) {
	t.Helper()
	payload, ok := event.(string)
	if !ok {
		b, err := json.Marshal(event)
		if err != nil {
			t.Fatal(err)
		}
		payload = string(b)
	}
	return h.Invoke(t.Context(), []byte(payload))
}

// httpResponse is the part of a response event the tests read; API
// Gateway v1 and v2 and Function URL responses all have it.
type httpResponse struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// invokeHTTP sends an HTTP event and decodes the response event.
func invokeHTTP(t testing.TB, h *lambdafn.Handler, event any) httpResponse {
	t.Helper()
	out, err := invoke(t, h, event)
	if err != nil {
		t.Fatalf("Invoke(HTTP event) error = %v; want a response event", err)
	}
	var r httpResponse
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("response event %s: %v", out, err)
	}
	return r
}

// urlBody is the API's answer for one URL, and the legacy event's.
type urlBody struct {
	URL       string `json:"url"`
	ExpiresAt string `json:"expires_at"`
	KeyID     string `json:"key_id"`
}

// legacyLink invokes h with legacyEvent and returns its answer.
func legacyLink(t testing.TB, h *lambdafn.Handler) urlBody {
	t.Helper()
	out, err := invoke(t, h, legacyEvent())
	if err != nil {
		t.Fatalf("Invoke(legacy event) error = %v; want nil", err)
	}
	var b urlBody
	if err := json.Unmarshal(out, &b); err != nil {
		t.Fatalf("result %s: %v", out, err)
	}
	return b
}

// errorBody is the API's error answer.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// functionError returns the type and message of the function error err
// is, failing t if it is none.
func functionError(t testing.TB, err error) (string, string) {
	t.Helper()
	var ie messages.InvokeResponse_Error
	if !errors.As(err, &ie) {
		t.Fatalf("Invoke error = %v (%T); want a messages.InvokeResponse_Error", err, err)
	}
	return ie.Type, ie.Message
}

// functionURL is a Function URL event for a POST of body to path.
func functionURL(path, authorization, body string) events.LambdaFunctionURLRequest {
	ev := events.LambdaFunctionURLRequest{
		Version: "2.0",
		RawPath: path,
		Headers: map[string]string{
			"content-type": "application/json",
			"host":         "abcdefgh.lambda-url.us-east-1.on.aws",
		},
		RequestContext: events.LambdaFunctionURLRequestContext{
			DomainName: "abcdefgh.lambda-url.us-east-1.on.aws",
			HTTP:       events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST", Path: path, SourceIP: "192.0.2.1"},
		},
		Body: body,
	}
	if authorization != "" {
		ev.Headers["authorization"] = authorization
	}
	return ev
}

// verify checks link with a verifier that trusts only pub as keyID at now,
// and returns the verified policy's expiry.
func verify(t testing.TB, link, keyID string, pub crypto.PublicKey, now time.Time) int64 {
	t.Helper()
	v, err := cfsign.NewVerifier(map[string]crypto.PublicKey{keyID: pub}, cfsign.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	target, ok := strings.CutPrefix(link, baseURL)
	if !ok {
		t.Fatalf("link %q is not under %s", link, baseURL)
	}
	res, err := v.Verify(&cfsign.Request{Scheme: "https", Host: host, Target: target})
	if err != nil {
		t.Fatalf("Verify(link) = %v; want nil", err)
	}
	if res.KeyID != keyID {
		t.Errorf("Verify(link) key id = %s; want %s", res.KeyID, keyID)
	}
	return res.Policy.Expires
}
