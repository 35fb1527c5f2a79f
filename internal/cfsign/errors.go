package cfsign

import (
	"errors"
	"strconv"
)

// Code is one of CloudFront's five public error codes for a refused signed
// request (§11). The zero Code means no error.
type Code int

// The public codes, in the order the verifier can reach them.
const (
	CodeOK Code = iota
	MissingKey
	InvalidKey
	MalformedSignature
	MalformedPolicy
	AccessDenied
)

var codeText = [...]struct{ name, message string }{
	CodeOK:             {"OK", ""},
	MissingKey:         {"MissingKey", "Missing Key-Pair-Id query parameter or cookie value"},
	InvalidKey:         {"InvalidKey", "Unknown Key"},
	MalformedSignature: {"MalformedSignature", "Could not unencode Signature"},
	MalformedPolicy:    {"MalformedPolicy", "Malformed Policy"},
	AccessDenied:       {"AccessDenied", "Access denied"},
}

// String returns the code as CloudFront spells it, such as "MissingKey".
func (c Code) String() string {
	if c < 0 || int(c) >= len(codeText) {
		return "Code(" + strconv.Itoa(int(c)) + ")"
	}
	return codeText[c].name
}

// Message returns CloudFront's exact message for the code.
func (c Code) Message() string {
	if c < 0 || int(c) >= len(codeText) {
		return ""
	}
	return codeText[c].message
}

// XML returns the exact body CloudFront sends with a 403 for this code: no
// trailing newline, served as text/xml (§11).
func (c Code) XML() []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + c.String() +
		`</Code><Message>` + c.Message() + `</Message></Error>`)
}

// The private reasons for a refusal. Each maps to exactly one public Code
// (see CodeOf) and has a short name (see ReasonName); callers test them
// with errors.Is. They go to logs and to `signet explain`, never to the
// client. A new reason needs an entry in reasons, which a test checks.
var (
	ErrNoCredentials    = errors.New("cfsign: no signing parameters or cookies")
	ErrMissingKeyID     = errors.New("cfsign: Key-Pair-Id missing or empty")
	ErrUnknownKey       = errors.New("cfsign: key pair id not trusted")
	ErrMissingSignature = errors.New("cfsign: Signature missing or empty")
	ErrBadSignatureB64  = errors.New("cfsign: Signature is not CloudFront base64")
	ErrExpiresAndPolicy = errors.New("cfsign: both Expires and Policy present")
	ErrNoPolicy         = errors.New("cfsign: neither Expires nor Policy present")
	ErrBadExpires       = errors.New("cfsign: Expires is not a valid epoch")
	ErrBadPolicyB64     = errors.New("cfsign: Policy is not CloudFront base64")
	ErrBadPolicy        = errors.New("cfsign: malformed policy")
	ErrRepeatedParam    = errors.New("cfsign: signing parameter repeated")
	ErrUnknownHash      = errors.New("cfsign: unknown Hash-Algorithm")
	ErrBadSignature     = errors.New("cfsign: signature does not verify")
	ErrExpired          = errors.New("cfsign: link expired")
	ErrNotYetValid      = errors.New("cfsign: link not yet valid")
	ErrIPMismatch       = errors.New("cfsign: client IP not allowed by policy")
	ErrResourceMismatch = errors.New("cfsign: resource does not match policy")
	ErrNoResource       = errors.New("cfsign: policy has no Resource")
	ErrLifetimeOverCap  = errors.New("cfsign: link lifetime over the cap")
	ErrNoIPBinding      = errors.New("cfsign: link binds no client IP")
)

// reasonEntry is what is known of one private reason: its public code,
// and its name, a stable label for metrics (signet_denials_total's reason)
// that never changes once published.
type reasonEntry struct {
	code Code
	name string
}

var reasons = map[error]reasonEntry{
	ErrNoCredentials:    {MissingKey, "no_credentials"},
	ErrMissingKeyID:     {MissingKey, "missing_key_id"},
	ErrUnknownKey:       {InvalidKey, "unknown_key"},
	ErrMissingSignature: {MalformedSignature, "missing_signature"},
	ErrBadSignatureB64:  {MalformedSignature, "bad_signature_encoding"},
	ErrExpiresAndPolicy: {MalformedPolicy, "expires_and_policy"},
	ErrNoPolicy:         {MalformedPolicy, "no_policy"},
	ErrBadExpires:       {MalformedPolicy, "bad_expires"},
	ErrBadPolicyB64:     {MalformedPolicy, "bad_policy_encoding"},
	ErrBadPolicy:        {MalformedPolicy, "malformed_policy"},
	ErrRepeatedParam:    {AccessDenied, "repeated_parameter"},
	ErrUnknownHash:      {AccessDenied, "unknown_hash"},
	ErrBadSignature:     {AccessDenied, "bad_signature"},
	ErrExpired:          {AccessDenied, "expired"},
	ErrNotYetValid:      {AccessDenied, "not_yet_valid"},
	ErrIPMismatch:       {AccessDenied, "ip_mismatch"},
	ErrResourceMismatch: {AccessDenied, "resource_mismatch"},
	ErrNoResource:       {AccessDenied, "no_resource"},
	ErrLifetimeOverCap:  {AccessDenied, "lifetime_over_cap"},
	ErrNoIPBinding:      {AccessDenied, "no_ip_binding"},
}

// ReasonName returns the short name of the private reason err matches,
// such as "expired" for ErrExpired: a label for metrics, the same in every
// release. It returns "" when err matches none of the Err* reasons above.
func ReasonName(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		if r, ok := reasons[e.Reason]; ok {
			return r.name
		}
	}
	for sentinel, r := range reasons {
		if errors.Is(err, sentinel) {
			return r.name
		}
	}
	return ""
}

// Error is a refused verification: the public Code, the private reason (one
// of the Err* sentinels above), and why in two forms. Detail, and so
// Error(), never hold any part of the policy (its resource pattern, IP
// range, instants or malformed text), so that they can be logged: "client
// 198.51.100.7 is outside the policy's IP range", "expired 40s ago" (a
// distance in time, which with the log's own timestamp tells the expiry to
// the second; an expiry is no secret the link does not carry in clear).
// Full, when set, is the same with the policy's own values ("client
// 198.51.100.7 is not in 203.0.113.0/24"), for whoever already holds the
// link: signet verify and the development-only debug header (Verbose).
// Neither ever holds a signature.
type Error struct {
	Code   Code
	Reason error
	Detail string
	Full   string
}

// Error returns the reason and the log-safe detail.
func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Reason.Error()
	}
	return e.Reason.Error() + ": " + e.Detail
}

// Verbose returns the reason and the full detail, with the policy's values:
// never for logs.
func (e *Error) Verbose() string {
	if e.Full == "" {
		return e.Error()
	}
	return e.Reason.Error() + ": " + e.Full
}

// Unwrap returns the private reason, so errors.Is(err, ErrExpired) works.
func (e *Error) Unwrap() error { return e.Reason }

func deny(reason error, detail string) *Error {
	return &Error{Code: reasons[reason].code, Reason: reason, Detail: detail}
}

// denyPolicy is deny with a detail that quotes the policy (full) and its
// log-safe form (detail).
func denyPolicy(reason error, detail, full string) *Error {
	return &Error{Code: reasons[reason].code, Reason: reason, Detail: detail, Full: full}
}

// CodeOf maps an error from this package to its public code: CodeOK for nil,
// AccessDenied for any error it does not know (fail closed).
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	for sentinel, r := range reasons {
		if errors.Is(err, sentinel) {
			return r.code
		}
	}
	return AccessDenied
}
