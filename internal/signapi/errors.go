package signapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/signet-dev/signet/internal/cfsign"
)

// code is one public error: the status, the code clients switch on and the
// only words they see.
type code struct {
	status  int
	name    string
	message string
}

// The public errors. openapi.json lists the same codes (a test checks).
var (
	codeBadJSON          = &code{http.StatusBadRequest, "bad_json", "the body is not a JSON object of the shape this endpoint takes"}
	codeUnknownField     = &code{http.StatusBadRequest, "unknown_field", "the body has a field this endpoint does not accept"}
	codeInvalidTarget    = &code{http.StatusBadRequest, "invalid_target", "give either url, or distribution and key"}
	codeInvalidURL       = &code{http.StatusBadRequest, "invalid_url", "url must be an absolute http or https URL with a path, exactly as clients will request it: lower-case host, percent-encoded, no fragment and no signing parameters"}
	codeInvalidKey       = &code{http.StatusBadRequest, "invalid_key", "key must be a non-empty object key without a leading '/', empty segments or '.' and '..' segments"}
	codeUnknownDist      = &code{http.StatusBadRequest, "unknown_distribution", "no distribution has this name, or this URL's scheme and host"}
	codeInvalidExpiry    = &code{http.StatusBadRequest, "invalid_expiry", "give exactly one of expires_in (whole seconds) and expires_at (RFC 3339 or Unix seconds), in the future and not after " + cfsign.MaxExpiry}
	codeInvalidTime      = &code{http.StatusBadRequest, "invalid_time", "expires_at and not_before take RFC 3339 text or Unix seconds (not milliseconds)"}
	codeInvalidNotBefore = &code{http.StatusBadRequest, "invalid_not_before", "not_before must be before the expiry"}
	codeInvalidIP        = &code{http.StatusBadRequest, "invalid_ip", "ip must be an IPv4 address or an IPv4 CIDR range without host bits set"}
	codeInvalidResource  = &code{http.StatusBadRequest, "invalid_resource", "resource must be a valid pattern that matches the URL"}
	codeInvalidHash      = &code{http.StatusBadRequest, "invalid_hash", "hash must be sha1 or sha256; only in-process RSA keys sign sha1"}
	codeTooLong          = &code{http.StatusBadRequest, "too_long", "the signed URL would exceed 8192 bytes, or a Set-Cookie line 4096 bytes (CloudFront's limits)"}
	codeEmptyBatch       = &code{http.StatusBadRequest, "empty_batch", "items must hold at least one item"}
	codeUnauthorized     = &code{http.StatusUnauthorized, "unauthorized", "a valid bearer token is required"}
	codeOutOfScope       = &code{http.StatusForbidden, "out_of_scope", "the token may not sign this distribution or path"}
	codeNotFound         = &code{http.StatusNotFound, "not_found", "no such endpoint"}
	codeMethod           = &code{http.StatusMethodNotAllowed, "method_not_allowed", "the endpoint does not take this method"}
	codeBodyTooLarge     = &code{http.StatusRequestEntityTooLarge, "body_too_large", "the request body is too large"}
	codeBatchTooLarge    = &code{http.StatusRequestEntityTooLarge, "batch_too_large", "the batch has too many items"}
	codeMediaType        = &code{http.StatusUnsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json"}
	codeLifetime         = &code{http.StatusUnprocessableEntity, "lifetime_too_long", "the lifetime exceeds the maximum for this token and distribution"}
	codeIPRequired       = &code{http.StatusUnprocessableEntity, "ip_required", "this distribution signs only links bound to a client IP: give ip"}
	codeOverBroad        = &code{http.StatusUnprocessableEntity, "over_broad", "the resource is over-broad (a wildcard protocol or domain, or a path wildcard right after the host); this distribution does not allow it"}
	codeRateLimited      = &code{http.StatusTooManyRequests, "rate_limited", "too many requests for this token; retry after the Retry-After seconds"}
	codeInternal         = &code{http.StatusInternalServerError, "internal", "internal error"}
	codeSigner           = &code{http.StatusBadGateway, "signer_unavailable", "the signing key is unavailable; retry later"}
)

// codes lists every public error, for the document check.
var codes = []*code{
	codeBadJSON, codeUnknownField, codeInvalidTarget, codeInvalidURL, codeInvalidKey,
	codeUnknownDist, codeInvalidExpiry, codeInvalidTime, codeInvalidNotBefore, codeInvalidIP,
	codeInvalidResource, codeInvalidHash, codeTooLong, codeEmptyBatch, codeUnauthorized, codeOutOfScope,
	codeNotFound, codeMethod, codeBodyTooLarge, codeBatchTooLarge, codeMediaType, codeLifetime,
	codeIPRequired, codeOverBroad, codeRateLimited, codeInternal, codeSigner,
}

// apiError is a refusal: the public code, an optional public message that
// replaces the code's (it may state a configured limit, never input or
// secrets), the private cause for the log, and a Retry-After in seconds.
type apiError struct {
	code       *code
	message    string
	cause      error
	retryAfter int
}

func (e *apiError) Error() string {
	if e.cause == nil {
		return e.code.name
	}
	return e.code.name + ": " + e.cause.Error()
}

func (e *apiError) Unwrap() error { return e.cause }

// fail returns an apiError with c and a cause made from format and args.
// The cause is private: it goes to the log only.
func fail(c *code, format string, args ...any) *apiError {
	return &apiError{code: c, cause: fmt.Errorf(format, args...)}
}

// errSigner marks a failure of the key source or of the crypto.Signer.
var errSigner = errors.New("signapi: signer failed")

// ErrInvalidToken is returned by TokenStore.Lookup for a malformed, unknown,
// wrong or revoked token; the wrapped text says which, without the secret.
var ErrInvalidToken = errors.New("signapi: invalid token")

// errorJSON is the body of every error response, and the error of a batch
// item.
type errorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// publicOf is the one place that maps an error to what the client sees.
func publicOf(err error) (*apiError, errorJSON) {
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &mbe):
		ae = &apiError{code: codeBodyTooLarge, message: "the request body is larger than " + strconv.FormatInt(mbe.Limit, 10) + " bytes", cause: err}
	case errors.Is(err, ErrInvalidToken):
		ae = &apiError{code: codeUnauthorized, cause: err}
	case errors.Is(err, errSigner):
		ae = &apiError{code: codeSigner, cause: err}
	default:
		ae = &apiError{code: codeInternal, cause: err}
	}
	msg := ae.message
	if msg == "" {
		msg = ae.code.message
	}
	return ae, errorJSON{Code: ae.code.name, Message: msg}
}
