// Package lambdafn is signet's signing API as an AWS Lambda function. One
// Handler takes three kinds of event, told apart by their JSON:
//
//   - API Gateway HTTP API (payload 2.0) and Lambda Function URL events
//     ("version": "2.0" with requestContext.http), and API Gateway REST
//     (payload 1.0, "httpMethod") events: the request is run through the
//     signapi handler, so routes, JSON, authentication, guardrails and errors
//     are exactly the server's, and the answer is the matching response
//     event. Request problems are HTTP statuses with a JSON body; Invoke
//     returns no error for them.
//   - The event of the system signet replaces, {"fileName": "File.txt",
//     "Year": "2022", "Month": "11", "Day": "27", "Hour": "12", "Minute":
//     "01", "Second": "02", "Micro": "1"}: a signed URL for fileName that
//     expires at that instant in UTC, answered as {"url", "expires_at",
//     "key_id"}. A refusal is a function error (see below).
//   - Anything else is refused as a function error of type "unknown_event".
//
// Function errors: when a direct invocation cannot be answered, Invoke returns
// a messages.InvokeResponse_Error whose Type is a stable code and whose
// Message says what was wrong. Lambda reports it as a function error (the
// Invoke API's FunctionError is set) with the payload {"errorType": code,
// "errorMessage": text}. The codes are those of signapi's JSON errors
// ("lifetime_too_long", "invalid_key", "signer_unavailable", ...) and
// lambdafn's own: "unknown_event", "invalid_event" (a field missing or not a
// number), "invalid_date" (no such instant: Month 13, 30 February),
// "expiry_in_past" and "expiry_after_2038".
//
// The legacy event's date fields are strings of digits ("01") or JSON
// integers, all required; Micro is microseconds and is floored away, as
// CloudFront's expiries are whole seconds. fileName is an object key,
// appended to the base URL with each '/'-separated segment percent-encoded.
// Other fields are ignored.
//
// Authority: a bearer token (Config.Tokens) acts within its scopes, lifetime
// cap and rate limit (kept per execution environment). A direct invocation, which IAM has already allowed
// (lambda:InvokeFunction), and an HTTP event that AWS authenticated with IAM
// (requestContext.authorizer.iam: a Function URL with AuthType AWS_IAM, or
// an HTTP API route with IAM authorization) act for the whole distribution.
// REST API events are authenticated by bearer tokens only. Every link is still bound by the distribution's guardrails, the lifetime
// cap first.
package lambdafn

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/signet-dev/signet/internal/keysource"
	"github.com/signet-dev/signet/internal/signapi"
)

// DefaultDistribution is Config.Distribution when it is "".
const DefaultDistribution = "default"

// Config configures a Handler.
type Config struct {
	// BaseURL is the scheme and host links are for, such as
	// "https://media.example.com", with no path.
	BaseURL string
	// Distribution is the distribution's name in API requests; "" means
	// DefaultDistribution.
	Distribution string
	// Key is the signing key, built once per cold start. If it has a
	// Refresh(context.Context) error method (a Secrets Manager source
	// does), an invocation first calls it when the last refresh is older
	// than Refresh.
	Key keysource.Source
	// MaxLifetime caps every link's lifetime; 0 means
	// signapi.DefaultMaxLifetime.
	MaxLifetime time.Duration
	// Tokens authenticates the bearer tokens of HTTP events; nil refuses
	// them all, leaving IAM-authenticated and direct invocations. It is
	// refreshed as Key is, if it can be.
	Tokens signapi.TokenLookup
	// Refresh is how old Key's and Tokens' last read may be before an
	// invocation reads them again; 0 means keysource.DefaultRefresh and a
	// negative value never.
	Refresh time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives signapi's records and refresh failures, never
	// tokens, keys or signed URLs, each with the invocation's request_id;
	// nil discards.
	Logger *slog.Logger
}

// refresher is a source that can be read again on demand.
type refresher interface {
	Refresh(ctx context.Context) error
}

// Handler is the Lambda function. It implements lambda.Handler and is
// safe for concurrent use.
type Handler struct {
	api          *signapi.API
	distribution string
	direct       string // bearer secret of direct invocations
	iam          string // bearer secret of IAM-authenticated HTTP events
	now          func() time.Time
	log          *slog.Logger

	refresh    time.Duration
	refreshers []refresher
	mu         sync.Mutex // guards refreshed
	refreshed  time.Time
}

var _ lambda.Handler = (*Handler)(nil)

// New validates cfg, reporting every problem at once, and returns the
// Handler. It makes no AWS calls.
func New(cfg Config) (*Handler, error) {
	if cfg.Distribution == "" {
		cfg.Distribution = DefaultDistribution
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Logger = slog.New(requestIDHandler{cfg.Logger.Handler()})
	if cfg.Refresh == 0 {
		cfg.Refresh = keysource.DefaultRefresh
	}
	h := &Handler{
		distribution: cfg.Distribution,
		direct:       randomSecret(),
		iam:          randomSecret(),
		now:          cfg.Now,
		log:          cfg.Logger,
		refresh:      cfg.Refresh,
		refreshed:    cfg.Now(),
	}
	for _, s := range []any{cfg.Key, cfg.Tokens} {
		if r, ok := s.(refresher); ok {
			h.refreshers = append(h.refreshers, r)
		}
	}
	all := []signapi.Scope{{Distribution: cfg.Distribution, Prefixes: []string{""}}}
	api, err := signapi.New(signapi.Config{
		Distributions: []signapi.Distribution{{
			Name:        cfg.Distribution,
			BaseURL:     cfg.BaseURL,
			Key:         cfg.Key, // nil: signapi.New reports it
			MaxLifetime: cfg.MaxLifetime,
		}},
		Tokens: &tokens{
			internal: []internalToken{
				{h.direct, signapi.Token{ID: "direct", Name: "direct invocation", Scopes: all}},
				{h.iam, signapi.Token{ID: "iam", Name: "IAM-authenticated request", Scopes: all}},
			},
			bearer: cfg.Tokens,
		},
		Now:    cfg.Now,
		Logger: cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("lambdafn: %w", err)
	}
	h.api = api
	return h, nil
}

// randomSecret returns 32 random bytes in base64url: the bearer secret of
// an internal principal. It never leaves the process.
func randomSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return "lambda_" + base64.RawURLEncoding.EncodeToString(b)
}

// internalToken is a principal of this process: direct invocations and
// IAM-authenticated requests.
type internalToken struct {
	secret string
	token  signapi.Token
}

// tokens authenticates the internal principals and, through bearer,
// callers' tokens.
type tokens struct {
	internal []internalToken
	bearer   signapi.TokenLookup // nil refuses every bearer token
}

func (t *tokens) Lookup(secret string) (signapi.Token, error) {
	for _, it := range t.internal {
		if subtle.ConstantTimeCompare([]byte(secret), []byte(it.secret)) == 1 {
			return it.token, nil
		}
	}
	if t.bearer == nil {
		return signapi.Token{}, fmt.Errorf("%w: this function has no bearer tokens (SIGNET_TOKENS)", signapi.ErrInvalidToken)
	}
	return t.bearer.Lookup(secret)
}

// Invoke handles one event: see the package comment.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil || fields == nil {
		return nil, invokeError(codeUnknownEvent, "the event is not a JSON object")
	}
	h.maybeRefresh(ctx)
	_, legacy := fields["fileName"]
	_, v1 := fields["httpMethod"]
	_, hasContext := fields["requestContext"]
	switch {
	case legacy:
		return h.legacy(ctx, fields)
	case hasContext && string(fields["version"]) == `"2.0"`:
		return h.httpV2(ctx, payload)
	case v1:
		return h.httpV1(ctx, payload)
	}
	return nil, invokeError(codeUnknownEvent, "the event is neither an API Gateway or Function URL request "+
		"(\"version\": \"2.0\" or \"httpMethod\") nor a legacy {\"fileName\", \"Year\", ...} event")
}

// maybeRefresh reads the refreshable sources again when the last read is
// older than h.refresh. One invocation refreshes while the others go on
// with what they have; a failure keeps the last good key and tokens.
func (h *Handler) maybeRefresh(ctx context.Context) {
	if len(h.refreshers) == 0 || h.refresh < 0 {
		return
	}
	now := h.now()
	h.mu.Lock()
	stale := now.Sub(h.refreshed) >= h.refresh
	if stale {
		h.refreshed = now
	}
	h.mu.Unlock()
	if !stale {
		return
	}
	for _, r := range h.refreshers {
		if err := r.Refresh(ctx); err != nil {
			h.log.WarnContext(ctx, "refresh failed; keeping the last good version", "reason", err.Error())
		}
	}
}

// The codes of lambdafn's own function errors.
const (
	codeUnknownEvent = "unknown_event"
	codeInvalidEvent = "invalid_event"
	codeInvalidDate  = "invalid_date"
	codePast         = "expiry_in_past"
	codeAfter2038    = "expiry_after_2038"
)

// invokeError returns the function error Lambda reports as
// {"errorType": code, "errorMessage": ...}.
func invokeError(code, format string, args ...any) error {
	return messages.InvokeResponse_Error{Type: code, Message: fmt.Sprintf(format, args...)}
}

// apiError turns a signapi error body into a function error.
func apiError(status int, body []byte) error {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
		return invokeError("internal", "the signing API answered status %d without an error body", status)
	}
	return invokeError(e.Error.Code, "%s", e.Error.Message)
}

// requestIDHandler adds the Lambda request id of the record's context, so
// that every record of one invocation can be found with the id Lambda
// logs and returns to the caller.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
