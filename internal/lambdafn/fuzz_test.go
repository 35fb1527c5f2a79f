package lambdafn_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/keysource"
	"github.com/signet-dev/signet/internal/lambdafn"
	"github.com/signet-dev/signet/internal/signapi"
	"github.com/signet-dev/signet/internal/testenv"
)

// FuzzInvoke feeds arbitrary payloads to a Handler. Invariants: no panic;
// a refusal is a function error with a type and a message; an answer is a
// JSON object, either a response event with a status or a legacy link that
// verifies; no answer holds an internal bearer secret. The seed corpus, in
// testdata/fuzz, has every event shape.
func FuzzInvoke(f *testing.F) {
	key := newECDSA(f)
	src, err := keysource.NewStatic(cfsign.Key{ID: "K2FUZZ", Signer: key, Hash: cfsign.SHA256})
	if err != nil {
		f.Fatal(err)
	}
	st, err := signapi.ParseStaticTokens([]byte(`[]`))
	if err != nil {
		f.Fatal(err)
	}
	h, err := lambdafn.New(lambdafn.Config{BaseURL: baseURL, Key: src, Tokens: st, Now: testenv.NewClock(testNow).Now})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := h.Invoke(t.Context(), payload)
		if err != nil {
			var ie messages.InvokeResponse_Error
			if !errors.As(err, &ie) || ie.Type == "" || ie.Message == "" {
				t.Fatalf("Invoke(%q) error = %#v; want a function error with a type and a message", payload, err)
			}
			return
		}
		if strings.Contains(string(out), "lambda_") {
			t.Fatalf("Invoke(%q) = %s; it holds an internal secret", payload, out)
		}
		var r struct {
			StatusCode int    `json:"statusCode"`
			URL        string `json:"url"`
		}
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("Invoke(%q) = %s, not a JSON object: %v", payload, out, err)
		}
		switch {
		case r.StatusCode >= 200 && r.StatusCode <= 599:
		case r.URL != "":
			verify(t, r.URL, "K2FUZZ", key.Public(), testNow)
		default:
			t.Fatalf("Invoke(%q) = %s; want a response event or a link", payload, out)
		}
	})
}
