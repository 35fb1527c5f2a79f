// Package signapi is signet's signing API: an http.Handler that issues
// CloudFront-compatible signed URLs and cookies to applications holding a
// bearer token.
//
// Routes, relative to wherever the caller mounts the handler (use
// http.StripPrefix for a prefix):
//
//	POST /v1/sign/url       one signed URL
//	POST /v1/sign/cookies   signed cookies
//	POST /v1/sign/urls      up to Config.MaxBatch signed URLs
//	GET  /v1/openapi.json   the OpenAPI 3 document (openapi.json), no token needed
//
// The wire format is described in openapi.json, which a test holds against
// the handler. The decisions it documents:
//
//   - Input names the link either by "url" (exactly what the client will
//     request, under a distribution's BaseURL) or by "distribution" and
//     object "key" (appended to BaseURL, each segment percent-encoded with
//     url.PathEscape, so a browser sends the bytes unchanged).
//   - "expires_in" is whole seconds (a JSON integer); "expires_at" and
//     "not_before" are RFC 3339 text or Unix seconds (a JSON integer).
//     Exactly one of expires_in and expires_at is required.
//   - Decoding is strict: an unknown field, trailing data or a value of the
//     wrong type is a 400.
//   - A batch is all or nothing only for what concerns the whole request
//     (token, rate limit, JSON syntax, size); each item is then signed on
//     its own and answered in place, either as a result or as an error
//     object, and the response is 200.
//   - A batch counts as one request for the token's rate limit; MaxBatch
//     bounds how many links one request signs.
//
// Guardrails, checked in this order after the token's scopes: the lifetime
// (expiry minus now) must not exceed the smaller of the token's and the
// distribution's maximum; a distribution with RequireIP refuses links
// without "ip"; and a custom-policy resource is over-broad, and refused
// unless the distribution has AllowBroad, when its protocol or domain holds
// a wildcard ("*", "http*://...", "*.example.com", "https://media*") or the
// fixed part of its path before the first wildcard is just "/"
// ("https://h/*", "https://h/*.mp4"), which spans the whole host.
//
// Scopes: a token lists, per distribution, object-key prefixes it may sign.
// A prefix is a plain string prefix of the object key (the URL path without
// its leading '/', percent-decoded once, as the edge derives it), so end
// directory prefixes with '/'. The empty prefix covers the whole
// distribution. For a wildcard resource, the fixed part of its path before
// the first '*' must itself start with a prefix: with "videos/x/",
// "https://h/videos/x/*" is in scope and "https://h/videos/x*" (which also
// matches "videos/xyz/...") is not. A resource whose protocol or domain holds
// a wildcard reaches beyond the distribution and needs the empty prefix.
//
// Errors are JSON, {"error": {"code": "...", "message": "..."}}, with a fixed
// public message per code; the cause goes to the log. The logger never
// receives tokens, signatures, policies, cookies or signed URLs.
package signapi
