package lambdafn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/signet-dev/signet/internal/cfsign"
)

// legacyField is one numeric field of the legacy event and its range.
type legacyField struct {
	name     string
	min, max int
}

// legacyFields are the legacy event's date fields, in time.Date's order.
// Day's upper bound also depends on the month, checked after.
var legacyFields = []legacyField{
	{"Year", 0, 999999999},
	{"Month", 1, 12},
	{"Day", 1, 31},
	{"Hour", 0, 23},
	{"Minute", 0, 59},
	{"Second", 0, 59},
	{"Micro", 0, 999999},
}

// legacy answers the legacy event with a link to fileName expiring at the
// event's instant, signed through the API as a direct invocation, which
// applies the distribution's guardrails and logs its own refusals.
func (h *Handler) legacy(ctx context.Context, fields map[string]json.RawMessage) ([]byte, error) {
	name, exp, err := parseLegacy(fields, h.now())
	if err != nil {
		var ie messages.InvokeResponse_Error
		errors.As(err, &ie)
		h.log.InfoContext(ctx, "legacy event refused", "code", ie.Type, "reason", ie.Message)
		return nil, err
	}
	body, err := json.Marshal(struct {
		Distribution string `json:"distribution"`
		Key          string `json:"key"`
		ExpiresAt    int64  `json:"expires_at"`
	}{h.distribution, name, exp})
	if err != nil { // strings and an integer: cannot happen
		return nil, invokeError("internal", "legacy request: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/v1/sign/url", bytes.NewReader(body))
	if err != nil {
		return nil, invokeError("internal", "legacy request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+h.direct)
	req.Header.Set("Content-Type", "application/json")
	rec := &recorder{header: http.Header{}}
	h.api.ServeHTTP(rec, req)
	if resp := rec.response(); resp.status != http.StatusOK {
		return nil, apiError(resp.status, rec.body.Bytes())
	}
	return bytes.TrimSpace(rec.body.Bytes()), nil // without the API's newline
}

// parseLegacy reads the legacy event's fileName, and its instant in UTC as
// Unix seconds (floored: CloudFront's epochs are whole seconds). It refuses
// a missing or empty fileName, missing and non-numeric date fields,
// instants that do not exist, and expiries not after now or refused by
// cfsign.CheckExpiry, saying which. Other fields are ignored.
func parseLegacy(fields map[string]json.RawMessage, now time.Time) (string, int64, error) {
	var name string
	if err := json.Unmarshal(fields["fileName"], &name); err != nil || name == "" {
		return "", 0, invokeError(codeInvalidEvent, "legacy event: fileName must be a non-empty string")
	}
	var v [7]int
	var missing, range_ []string
	for i, f := range legacyFields {
		raw, ok := fields[f.name]
		if !ok {
			missing = append(missing, f.name+" is missing")
			continue
		}
		n, ok := legacyNumber(raw)
		switch {
		case !ok:
			missing = append(missing, fmt.Sprintf("%s %.20s is not a whole number", f.name, raw))
		case n < f.min || n > f.max:
			range_ = append(range_, fmt.Sprintf("%s %d is not in %d..%d", f.name, n, f.min, f.max))
		}
		v[i] = n
	}
	if len(missing) > 0 {
		return "", 0, invokeError(codeInvalidEvent, "legacy event: %s", strings.Join(append(missing, range_...), "; "))
	}
	if len(range_) > 0 {
		return "", 0, invokeError(codeInvalidDate, "legacy event: no such date: %s", strings.Join(range_, "; "))
	}
	year, month, day := v[0], time.Month(v[1]), v[2]
	t := time.Date(year, month, day, v[3], v[4], v[5], v[6]*1000, time.UTC)
	if t.Day() != day {
		last := time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
		return "", 0, invokeError(codeInvalidDate, "legacy event: no such date: Day %d is not in %s %d, which has %d days",
			day, month, year, last)
	}
	exp := t.Unix()
	switch {
	case exp <= now.Unix():
		return "", 0, invokeError(codePast, "legacy event: the expiry %s is not in the future (it is now %s)",
			t.Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339))
	}
	if err := cfsign.CheckExpiry(exp); err != nil {
		return "", 0, invokeError(codeAfter2038, "legacy event: %v", err)
	}
	return name, exp, nil
}

// legacyNumber reads a field as a JSON string of ASCII digits ("01") or a
// JSON integer (1), at most 9 digits.
func legacyNumber(raw json.RawMessage) (int, bool) {
	s := string(raw)
	if strings.HasPrefix(s, `"`) && json.Unmarshal(raw, &s) != nil {
		return 0, false
	}
	if s == "" || len(s) > 9 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}
