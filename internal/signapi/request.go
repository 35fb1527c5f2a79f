package signapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

// signRequest is the body of /v1/sign/url and /v1/sign/cookies, and one
// item of /v1/sign/urls. The times stay raw JSON until signing, so that in
// a batch a bad time is that item's error alone.
type signRequest struct {
	URL          string          `json:"url"`
	Distribution string          `json:"distribution"`
	Key          string          `json:"key"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	ExpiresAt    json.RawMessage `json:"expires_at"`
	NotBefore    json.RawMessage `json:"not_before"`
	IP           string          `json:"ip"`
	Resource     string          `json:"resource"`
	Hash         string          `json:"hash"`
}

// batchRequest is the body of /v1/sign/urls. Items are decoded one by one,
// so that an unreadable item is that item's error.
type batchRequest struct {
	Items []json.RawMessage `json:"items"`
}

// urlResponse is the answer of /v1/sign/url and a batch item's result.
type urlResponse struct {
	URL       string `json:"url"`
	ExpiresAt string `json:"expires_at"`
	KeyID     string `json:"key_id"`
}

// cookiesResponse is the answer of /v1/sign/cookies.
type cookiesResponse struct {
	Cookies   []cfsign.SignedCookie `json:"cookies"`
	ExpiresAt string                `json:"expires_at"`
	KeyID     string                `json:"key_id"`
}

// batchItem is one answer of /v1/sign/urls: a result or an error.
type batchItem struct {
	*urlResponse
	Error *errorJSON `json:"error,omitempty"`
}

type batchResponse struct {
	Items []batchItem `json:"items"`
}

// decodeJSON decodes one JSON value from r into v strictly: an unknown
// field, a value of the wrong type and data after the value are errors.
// A body over the size limit gives the *http.MaxBytesError.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		_, err = dec.Token()
		if err == io.EOF {
			return nil
		}
		var se *json.SyntaxError
		if err == nil || errors.As(err, &se) {
			err = errors.New("data after the JSON value")
		}
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return err
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json gives this case no type of its own.
		return fail(codeUnknownField, "body: %w", err)
	}
	return fail(codeBadJSON, "body: %w", err)
}

// isNull reports whether a raw field is absent or null.
func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// parseSeconds reads expires_in: a JSON integer of seconds.
func parseSeconds(raw json.RawMessage) (int64, error) {
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, fail(codeInvalidExpiry, "expires_in %.20q is not a whole number of seconds", raw)
	}
	return n, nil
}

// parseInstant reads expires_at or not_before: RFC 3339 text or a JSON
// integer of Unix seconds, returned as Unix seconds (floored, as the SDKs
// do). Thirteen or more digits are refused as milliseconds (§7).
func parseInstant(field string, raw json.RawMessage) (int64, error) {
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fail(codeInvalidTime, "%s: %w", field, err)
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return 0, fail(codeInvalidTime, "%s %.40q is not RFC 3339", field, s)
		}
		return t.Unix(), nil
	}
	s := string(raw)
	if strings.Trim(s, "0123456789") != "" {
		return 0, fail(codeInvalidTime, "%s %.20q is neither RFC 3339 text nor Unix seconds", field, s)
	}
	if len(s) >= 13 {
		return 0, fail(codeInvalidTime, "%s %.20s looks like milliseconds", field, s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fail(codeInvalidTime, "%s: %w", field, err)
	}
	return n, nil
}
