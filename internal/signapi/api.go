package signapi

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

// KeySource gives the key a distribution signs with now; a
// keysource.Source is one. Rotation switches what it returns; Key is called
// for every link, so implementations cache. Implementations must be safe
// for concurrent use.
//
// A request may ask for SHA256 with any key, and for SHA1 with a key that
// allows it (cfsign.Key.Allows) or whose default Hash it is.
type KeySource interface {
	Key(ctx context.Context) (cfsign.Key, error)
}

// KeySourceFunc adapts a function to KeySource.
type KeySourceFunc func(ctx context.Context) (cfsign.Key, error)

// Key calls f.
func (f KeySourceFunc) Key(ctx context.Context) (cfsign.Key, error) { return f(ctx) }

// Defaults and limits.
const (
	// DefaultMaxBatch is Config.MaxBatch when it is 0.
	DefaultMaxBatch = 100
	// DefaultMaxLifetime is Distribution.MaxLifetime when it is 0: seven
	// days, as for S3 presigned URLs. It bounds the wait before an old key
	// can be retired (rotation step 3).
	DefaultMaxLifetime = 7 * 24 * time.Hour
	// DefaultCacheSize is Distribution.CacheSize when Quantum > 0 and
	// CacheSize is 0.
	DefaultCacheSize = 10000

	// maxBatchLimit bounds Config.MaxBatch.
	maxBatchLimit = 10000
	// maxBody bounds the body of a single request; a batch may have
	// maxItemBody per item on top.
	maxBody     = 64 << 10
	maxItemBody = 20 << 10
)

// Config configures an API.
type Config struct {
	// Distributions are what tokens may sign for; at least one.
	Distributions []Distribution
	// Tokens authenticates callers; required: a *TokenStore, or
	// *StaticTokens where there is no token file.
	Tokens TokenLookup
	// MaxBatch is the most items /v1/sign/urls takes; 0 means 100.
	MaxBatch int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives denials (Info), failures (Error) and issued links
	// (Debug), never tokens, signatures, policies, cookies or signed
	// URLs. Nil discards.
	Logger *slog.Logger
}

// Distribution is one site links are signed for.
type Distribution struct {
	// Name is what requests call it ("distribution": "media").
	Name string
	// BaseURL is the scheme and host links are for, such as
	// "https://media.example.com", with no path: object keys are appended
	// with each segment percent-encoded (url.PathEscape), as browsers
	// send them unchanged.
	BaseURL string
	// Key is the active signer; rotation switches what it returns.
	Key KeySource
	// MaxLifetime caps every link's lifetime (expiry minus now); 0 means
	// DefaultMaxLifetime.
	MaxLifetime time.Duration
	// RequireIP refuses links not bound to a client IP or range.
	RequireIP bool
	// AllowBroad allows over-broad resources (see the package comment).
	AllowBroad bool
	// Quantum rounds expiries up to a multiple of it (Unix time), so that
	// repeated requests get the same link, served from the signed-link
	// cache; 0 is off.
	// It must be below MaxLifetime.
	Quantum time.Duration
	// CacheSize bounds the signed-link cache when Quantum > 0; 0 means
	// DefaultCacheSize.
	CacheSize int
}

// API serves the signing endpoints. It is safe for concurrent use.
type API struct {
	dists    map[string]*dist // by name
	origins  map[string]*dist // by "scheme://host"
	tokens   TokenLookup
	maxBatch int
	now      func() time.Time
	log      *slog.Logger
	limits   limiters
}

// dist is a validated Distribution.
type dist struct {
	Distribution
	links *signedLinks // nil when Quantum is 0
}

//go:embed openapi.json
var openAPI []byte

// route is one endpoint.
type route struct {
	method string
	serve  func(a *API, w http.ResponseWriter, r *http.Request, tok Token) error
	public bool // no token needed
}

// routes are every endpoint the handler serves; openapi.json lists the
// same (a test checks).
var routes = map[string]route{
	"/v1/sign/url":     {method: http.MethodPost, serve: (*API).serveURL},
	"/v1/sign/cookies": {method: http.MethodPost, serve: (*API).serveCookies},
	"/v1/sign/urls":    {method: http.MethodPost, serve: (*API).serveBatch},
	"/v1/openapi.json": {method: http.MethodGet, serve: (*API).serveOpenAPI, public: true},
}

// New validates cfg, reporting every problem at once, and returns the API.
func New(cfg Config) (*API, error) {
	var errs []error
	if cfg.Tokens == nil {
		errs = append(errs, errors.New("tokens: required"))
	}
	if cfg.MaxBatch < 0 || cfg.MaxBatch > maxBatchLimit {
		errs = append(errs, fmt.Errorf("max_batch: %d is not in 0..%d", cfg.MaxBatch, maxBatchLimit))
	}
	if len(cfg.Distributions) == 0 {
		errs = append(errs, errors.New("distributions: at least one is needed"))
	}
	a := &API{
		dists:    map[string]*dist{},
		origins:  map[string]*dist{},
		tokens:   cfg.Tokens,
		maxBatch: cfg.MaxBatch,
		now:      cfg.Now,
		log:      cfg.Logger,
	}
	if a.maxBatch == 0 {
		a.maxBatch = DefaultMaxBatch
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	for i, d := range cfg.Distributions {
		at := fmt.Sprintf("distributions[%d]", i)
		if d.MaxLifetime == 0 {
			d.MaxLifetime = DefaultMaxLifetime
		}
		if d.Quantum > 0 && d.CacheSize == 0 {
			d.CacheSize = DefaultCacheSize
		}
		errs = append(errs, checkDistribution(at, d)...)
		if _, dup := a.dists[d.Name]; dup {
			errs = append(errs, fmt.Errorf("%s.name: %q is used twice", at, d.Name))
		}
		if _, dup := a.origins[d.BaseURL]; dup {
			errs = append(errs, fmt.Errorf("%s.base_url: %q is used twice", at, d.BaseURL))
		}
		dd := &dist{Distribution: d}
		if d.Quantum > 0 && d.CacheSize > 0 {
			dd.links = newSignedLinks(d.CacheSize)
		}
		a.dists[d.Name], a.origins[d.BaseURL] = dd, dd
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("signapi: %w", errors.Join(errs...))
	}
	return a, nil
}

// checkDistribution returns the problems of one distribution.
func checkDistribution(at string, d Distribution) []error {
	var errs []error
	if d.Name == "" {
		errs = append(errs, fmt.Errorf("%s.name: empty", at))
	}
	switch scheme, host, target, _ := cfsign.SplitURL(d.BaseURL); {
	case scheme != "https" && scheme != "http", host == "", target != "":
		errs = append(errs, fmt.Errorf("%s.base_url: %q is not scheme://host, such as https://media.example.com", at, d.BaseURL))
	default:
		if err := cfsign.CheckURL(d.BaseURL + "/"); err != nil {
			errs = append(errs, fmt.Errorf("%s.base_url: %w", at, err))
		}
	}
	if d.Key == nil {
		errs = append(errs, fmt.Errorf("%s.key: required", at))
	}
	if err := cfsign.CheckMaxLifetime(d.MaxLifetime); err != nil {
		errs = append(errs, fmt.Errorf("%s.max_lifetime: %v is %w", at, d.MaxLifetime, err))
	}
	switch {
	case d.Quantum < 0:
		errs = append(errs, fmt.Errorf("%s.quantum: negative", at))
	case d.Quantum%time.Second != 0:
		errs = append(errs, fmt.Errorf("%s.quantum: %v is not whole seconds", at, d.Quantum))
	case d.Quantum >= d.MaxLifetime:
		errs = append(errs, fmt.Errorf("%s.quantum: %v is not below max_lifetime %v", at, d.Quantum, d.MaxLifetime))
	}
	if d.CacheSize < 0 {
		errs = append(errs, fmt.Errorf("%s.cache_size: negative", at))
	}
	return errs
}

// Handler returns the handler serving the API's routes at /v1/...; mount
// it under a prefix with http.StripPrefix.
func (a *API) Handler() http.Handler { return a }

// ServeHTTP serves one request; every error is answered by a.fail.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var tok Token
	if err := a.serve(w, r, &tok); err != nil {
		a.fail(w, r, tok, err)
	}
}

func (a *API) serve(w http.ResponseWriter, r *http.Request, tok *Token) error {
	rt, ok := routes[r.URL.Path]
	if !ok {
		return fail(codeNotFound, "no route %s", r.URL.Path)
	}
	if r.Method != rt.method && !(rt.method == http.MethodGet && r.Method == http.MethodHead) {
		w.Header().Set("Allow", rt.method)
		return fail(codeMethod, "method %s", r.Method)
	}
	if !rt.public {
		var err error
		if *tok, err = a.authenticate(r); err != nil {
			return err
		}
		if err := a.limits.allow(*tok, a.now()); err != nil {
			return err
		}
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return fail(codeMediaType, "content type %.60q", r.Header.Get("Content-Type"))
		}
	}
	return rt.serve(a, w, r, *tok)
}

// authenticate returns the token of an "Authorization: Bearer" header.
func (a *API) authenticate(r *http.Request) (Token, error) {
	scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return Token{}, fail(codeUnauthorized, "no bearer token")
	}
	return a.tokens.Lookup(strings.TrimSpace(secret))
}

func (a *API) serveOpenAPI(w http.ResponseWriter, r *http.Request, _ Token) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(openAPI)))
	h.Set("Cache-Control", "no-cache")
	if r.Method != http.MethodHead {
		w.Write(openAPI)
	}
	return nil
}

func (a *API) serveURL(w http.ResponseWriter, r *http.Request, tok Token) error {
	return a.serveOne(w, r, tok, false)
}

func (a *API) serveCookies(w http.ResponseWriter, r *http.Request, tok Token) error {
	return a.serveOne(w, r, tok, true)
}

// serveOne signs one URL, or one set of cookies.
func (a *API) serveOne(w http.ResponseWriter, r *http.Request, tok Token, cookies bool) error {
	var req signRequest
	if err := decodeJSON(http.MaxBytesReader(w, r.Body, maxBody), &req); err != nil {
		return err
	}
	out, err := a.sign(r.Context(), tok, &req, cookies)
	if err != nil {
		return err
	}
	if cookies {
		a.writeJSON(w, r, http.StatusOK, out.cookies)
	} else {
		a.writeJSON(w, r, http.StatusOK, out.url)
	}
	return nil
}

// serveBatch signs each item on its own: an item that cannot be read,
// is refused or fails gets an error object in its place, and the others
// are signed. Only the request as a whole (token, rate, JSON syntax, size)
// fails all of it.
func (a *API) serveBatch(w http.ResponseWriter, r *http.Request, tok Token) error {
	var req batchRequest
	limit := int64(maxBody + a.maxBatch*maxItemBody)
	if err := decodeJSON(http.MaxBytesReader(w, r.Body, limit), &req); err != nil {
		return err
	}
	switch n := len(req.Items); {
	case n == 0:
		return fail(codeEmptyBatch, "no items")
	case n > a.maxBatch:
		return &apiError{
			code:    codeBatchTooLarge,
			message: "the batch has more than " + strconv.Itoa(a.maxBatch) + " items",
			cause:   fmt.Errorf("%d items", n),
		}
	}
	resp := batchResponse{Items: make([]batchItem, len(req.Items))}
	for i, raw := range req.Items {
		var item signRequest
		err := decodeJSON(bytes.NewReader(raw), &item)
		var out *result
		if err == nil {
			out, err = a.sign(r.Context(), tok, &item, false)
		}
		if err != nil {
			ae, body := publicOf(err)
			a.logError(r, tok, ae, "item", i)
			resp.Items[i].Error = &body
			continue
		}
		resp.Items[i].urlResponse = out.url
	}
	a.writeJSON(w, r, http.StatusOK, resp)
	return nil
}

// writeJSON writes v as the response. URLs keep their '&'.
func (a *API) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only plain structs of strings are encoded: this cannot happen.
		a.log.ErrorContext(r.Context(), "response not encoded", "path", r.URL.Path, "reason", err.Error())
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail answers err: the status and public text from publicOf, and the
// cause to the log.
func (a *API) fail(w http.ResponseWriter, r *http.Request, tok Token, err error) {
	ae, body := publicOf(err)
	a.logError(r, tok, ae)
	h := w.Header()
	switch ae.code {
	case codeUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="signet"`)
	case codeRateLimited:
		h.Set("Retry-After", strconv.Itoa(ae.retryAfter))
	}
	a.writeJSON(w, r, ae.code.status, struct {
		Error errorJSON `json:"error"`
	}{body})
}

// logError logs a refusal at Info and a failure at Error, with the
// private cause. The cause never holds a secret: token errors name only
// the token id, and nothing signed reaches an error.
func (a *API) logError(r *http.Request, tok Token, ae *apiError, attrs ...any) {
	level, msg := slog.LevelInfo, "request denied"
	if ae.code.status >= 500 {
		level, msg = slog.LevelError, "request failed"
	}
	attrs = append(attrs, "path", r.URL.Path, "status", ae.code.status, "code", ae.code.name)
	if tok.ID != "" {
		attrs = append(attrs, "token_id", tok.ID)
	}
	if ae.cause != nil {
		attrs = append(attrs, "reason", ae.cause.Error())
	}
	a.log.Log(r.Context(), level, msg, attrs...)
}
