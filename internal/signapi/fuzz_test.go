package signapi_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/signapi"
)

// FuzzDecodeRequest posts arbitrary bodies to the three signing endpoints.
// Invariants: no panic; every answer is a 200 or a documented 4xx error
// (nothing here makes the signer fail, so no 5xx); and every link issued
// verifies at the moment it was signed, except for the conditions the
// request itself set (a client range, a start time). The seed corpus is in testdata/fuzz.
func FuzzDecodeRequest(f *testing.F) {
	fx := newFixture(f, fixtureOptions{})
	codes := signapi.ErrorCodes()
	at := testNow // the fixture's clock does not move
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{"/v1/sign/url", "/v1/sign/cookies", "/v1/sign/urls"} {
			r := fx.post(path, fx.token, string(body))
			if r.status != 200 {
				if r.status >= 500 || !slices.Contains(codes, r.code()) {
					t.Fatalf("POST %s %q = %d %s; want 200 or a documented 4xx", path, body, r.status, r.body)
				}
				continue
			}
			var got struct {
				URL     string `json:"url"`
				Cookies []struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"cookies"`
				Items []struct {
					URL   string `json:"url"`
					Error *struct {
						Code string `json:"code"`
					} `json:"error"`
				} `json:"items"`
			}
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatalf("POST %s %q: answer %s: %v", path, body, r.body, err)
			}
			urls := []string{}
			if got.URL != "" {
				urls = append(urls, got.URL)
			}
			for _, it := range got.Items {
				switch {
				case it.Error != nil && !slices.Contains(codes, it.Error.Code):
					t.Fatalf("POST %s %q: item error %q is not documented", path, body, it.Error.Code)
				case it.Error == nil:
					urls = append(urls, it.URL)
				}
			}
			for _, u := range urls {
				if _, err := verifyURL(t, u, at, "192.0.2.1"); err != nil && !allowedRefusal(err) {
					t.Fatalf("POST %s %q: Verify(%s) = %v", path, body, u, err)
				}
			}
			if path == "/v1/sign/cookies" && len(got.Cookies) < 3 {
				t.Fatalf("POST %s %q: %d cookies", path, body, len(got.Cookies))
			}
		}
	})
}

// allowedRefusal: a link may be refused for a reason the request chose.
// Checked at the moment of signing, a link is never expired.
func allowedRefusal(err error) bool {
	return errors.Is(err, cfsign.ErrIPMismatch) || errors.Is(err, cfsign.ErrNotYetValid)
}
