package signapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/state"
)

// Token is one API token as stored: never its secret, never its hash. It
// is state.Token, where tokens are kept.
type Token = state.Token

// Scope lets a token sign one distribution's objects whose keys start with
// one of its prefixes; see state.Scope.
type Scope = state.Scope

// Rate is a token's request limit, a token bucket; see state.Rate.
type Rate = state.Rate

// The token format is "sgt_<id>_<secret>": id is 16 hex digits (8 random
// bytes), secret is 43 base64url characters (32 random bytes). Only the
// SHA-256 of the whole string is stored.
const (
	tokenPrefix = "sgt_"
	idBytes     = 8
	secretBytes = 32
)

// ErrUnknownToken is returned by Revoke for an id the store does not hold.
var ErrUnknownToken = errors.New("signapi: no such token")

// errClosed is returned after Close.
var errClosed = errors.New("signapi: token store closed")

// constantTimeCompare compares token hashes; a variable so that a test can
// check that every lookup goes through it.
var constantTimeCompare = subtle.ConstantTimeCompare

// StoreOptions tune a TokenStore.
type StoreOptions struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the source of token ids and secrets; nil means crypto/rand.
	Rand io.Reader
	// Refresh is how often Lookup rereads the tokens, to see tokens
	// created or revoked by another process (`signet token` while the
	// server runs, or another node). 0 means 1s; a negative value rereads
	// on every Lookup.
	Refresh time.Duration
}

// TokenStore keeps API tokens in a state.Store, as hashes only. Several
// processes can share the store: the server looks tokens up while `signet
// token create|revoke` changes them. Lookup serves from memory and rereads
// the tokens at most every Refresh. Its methods may be called concurrently.
type TokenStore struct {
	st   state.Store
	now  func() time.Time
	rand io.Reader
	opts StoreOptions

	mu     sync.Mutex // one reload at a time
	snap   atomic.Pointer[snapshot]
	closed atomic.Bool
}

// snapshot is the tokens as last read.
type snapshot struct {
	read    time.Time
	records map[string]*record
}

// record is a token and its hash.
type record = state.StoredToken

// NewTokenStore keeps tokens in st, which it reads now; st stays the
// caller's to close.
func NewTokenStore(st state.Store, opts StoreOptions) (*TokenStore, error) {
	s := &TokenStore{st: st, now: opts.Now, rand: opts.Rand, opts: opts}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.opts.Refresh == 0 {
		s.opts.Refresh = time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops the store; later calls fail. The state.Store stays open.
func (s *TokenStore) Close() error {
	s.closed.Store(true)
	return nil
}

// Create makes a token and returns it with its secret, which is shown this
// once: the store keeps only its SHA-256. Every scope needs a distribution
// and at least one prefix ("" for all of it).
func (s *TokenStore) Create(name string, scopes []Scope, maxLifetime time.Duration, r Rate) (Token, string, error) {
	if s.closed.Load() {
		return Token{}, "", errClosed
	}
	if err := checkToken(name, scopes, maxLifetime, r); err != nil {
		return Token{}, "", err
	}
	var raw [idBytes + secretBytes]byte
	if _, err := io.ReadFull(s.rand, raw[:]); err != nil {
		return Token{}, "", fmt.Errorf("create token: random: %w", err)
	}
	id := hex.EncodeToString(raw[:idBytes])
	secret := tokenPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(raw[idBytes:])
	sum := sha256.Sum256([]byte(secret))
	rec := record{
		Token: Token{
			ID:          id,
			Name:        name,
			Scopes:      cloneScopes(scopes),
			MaxLifetime: maxLifetime,
			Rate:        r,
			CreatedAt:   s.now().UTC().Truncate(time.Second),
		},
		Hash: sum[:],
	}
	if err := s.st.CreateToken(context.Background(), rec); err != nil {
		if errors.Is(err, state.ErrExists) {
			return Token{}, "", errors.New("create token: id collision")
		}
		return Token{}, "", fmt.Errorf("create token: %w", err)
	}
	if err := s.reloadNow(); err != nil {
		return Token{}, "", err
	}
	return rec.Token, secret, nil
}

// List returns every token, revoked ones included, oldest first. It reads
// the store, so it sees other processes' changes at once.
func (s *TokenStore) List() ([]Token, error) {
	if err := s.reloadNow(); err != nil {
		return nil, err
	}
	recs := s.snap.Load().records
	out := make([]Token, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Token)
	}
	slices.SortFunc(out, func(a, b Token) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Revoke revokes the token with id: Lookup refuses it from then on (in
// other processes, within their Refresh). Revoking a revoked token keeps
// its first RevokedAt. An unknown id gives ErrUnknownToken.
func (s *TokenStore) Revoke(id string) error {
	if s.closed.Load() {
		return errClosed
	}
	err := s.st.RevokeToken(context.Background(), id, s.now().UTC().Truncate(time.Second))
	if errors.Is(err, state.ErrNotFound) {
		return fmt.Errorf("revoke %q: %w", id, ErrUnknownToken)
	}
	if err != nil {
		return fmt.Errorf("revoke %q: %w", id, err)
	}
	return s.reloadNow()
}

// Lookup returns the active token whose secret this is. The stored hash is
// found by the token's non-secret id and compared in constant time; an
// unknown id is compared against a dummy hash so that it costs the same.
// Any failure matches ErrInvalidToken, and no error contains the secret.
func (s *TokenStore) Lookup(secret string) (Token, error) {
	if s.closed.Load() {
		return Token{}, errClosed
	}
	if err := s.maybeRefresh(); err != nil {
		return Token{}, err
	}
	return lookup(s.snap.Load().records, secret)
}

// lookup finds the active token whose hash the secret has, by the id in the
// secret, comparing hashes in constant time (against a dummy hash when the
// id is unknown, so that timing tells nothing about which ids exist).
func lookup(records map[string]*record, secret string) (Token, error) {
	id, ok := tokenID(secret)
	rec := records[id]
	var want [sha256.Size]byte // the dummy: no secret hashes to all zeros
	if rec != nil {
		copy(want[:], rec.Hash)
	}
	got := sha256.Sum256([]byte(secret))
	match := constantTimeCompare(got[:], want[:]) == 1
	switch {
	case !ok:
		return Token{}, fmt.Errorf("%w: malformed", ErrInvalidToken)
	case rec == nil || !match:
		return Token{}, fmt.Errorf("%w: unknown id or wrong secret (id %q)", ErrInvalidToken, id)
	case !rec.RevokedAt.IsZero():
		return Token{}, fmt.Errorf("%w: token %s revoked", ErrInvalidToken, id)
	}
	return rec.Token, nil
}

// TokenLookup authenticates API callers: Lookup returns the active token a
// bearer secret belongs to, or an error matching ErrInvalidToken. The
// state-backed TokenStore and the fixed StaticTokens implement it.
type TokenLookup interface {
	Lookup(secret string) (Token, error)
}

var (
	_ TokenLookup = (*TokenStore)(nil)
	_ TokenLookup = (*StaticTokens)(nil)
)

// StaticTokens is a fixed set of tokens, for deployments without a state
// database such as the AWS Lambda: the tokens' records (as `signet token export`
// prints them: the token and the SHA-256 of its secret, never the secret)
// come from an environment variable or a secret. Safe for concurrent use.
type StaticTokens struct {
	records map[string]*record
}

// TokenRecord is a token with the hex SHA-256 of its secret. In JSON (what
// `signet token export` prints and ParseStaticTokens reads) MaxLifetime is
// a Go duration string ("1h0m0s", "" for none) and times are RFC 3339 in
// UTC, as in every JSON output of the CLI; a number of nanoseconds, the
// earlier form, is still read.
type TokenRecord struct {
	Token
	SHA256 string `json:"sha256"`
}

// recordFields is TokenRecord without its JSON methods.
type recordFields TokenRecord

// MarshalJSON writes the record as described on TokenRecord.
func (r TokenRecord) MarshalJSON() ([]byte, error) {
	out := struct {
		recordFields
		// These shadow the embedded Token's fields of the same names.
		MaxLifetime string `json:"max_lifetime,omitempty"`
		CreatedAt   string `json:"created_at"`
		RevokedAt   string `json:"revoked_at,omitempty"`
	}{recordFields: recordFields(r), CreatedAt: r.CreatedAt.UTC().Format(time.RFC3339)}
	if r.MaxLifetime != 0 {
		out.MaxLifetime = r.MaxLifetime.String()
	}
	if !r.RevokedAt.IsZero() {
		out.RevokedAt = r.RevokedAt.UTC().Format(time.RFC3339)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // a name may hold '&'; callers choose the escaping
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON reads the record strictly: an unknown field is an error.
func (r *TokenRecord) UnmarshalJSON(b []byte) error {
	in := struct {
		*recordFields
		MaxLifetime json.RawMessage `json:"max_lifetime"`
	}{recordFields: (*recordFields)(r)}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&in); err != nil {
		return err
	}
	r.MaxLifetime = 0
	switch m := in.MaxLifetime; {
	case len(m) == 0 || string(m) == "null" || string(m) == `""`:
	case m[0] == '"':
		var s string
		if err := json.Unmarshal(m, &s); err != nil {
			return err
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return fmt.Errorf("max_lifetime %.40q is not a duration such as 1h0m0s", s)
		}
		r.MaxLifetime = d
	default:
		var n int64
		if err := json.Unmarshal(m, &n); err != nil || n < 0 {
			return fmt.Errorf("max_lifetime %.40s is not a duration", m)
		}
		r.MaxLifetime = time.Duration(n)
	}
	return nil
}

// ParseStaticTokens reads a JSON array of TokenRecords.
func ParseStaticTokens(data []byte) (*StaticTokens, error) {
	var recs []TokenRecord
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&recs); err != nil {
		return nil, fmt.Errorf("signapi: token records: %w", err)
	}
	st := &StaticTokens{records: make(map[string]*record, len(recs))}
	for i, r := range recs {
		h, err := hex.DecodeString(r.SHA256)
		if err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("signapi: token records[%d]: sha256 is not 64 hex digits", i)
		}
		if r.ID == "" || st.records[r.ID] != nil {
			return nil, fmt.Errorf("signapi: token records[%d]: missing or repeated id %q", i, r.ID)
		}
		st.records[r.ID] = &record{Token: r.Token, Hash: h}
	}
	return st, nil
}

// Lookup implements TokenLookup.
func (st *StaticTokens) Lookup(secret string) (Token, error) { return lookup(st.records, secret) }

// Export returns the records of the active tokens, for StaticTokens.
func (s *TokenStore) Export() ([]TokenRecord, error) {
	if err := s.reloadNow(); err != nil {
		return nil, err
	}
	var out []TokenRecord
	for _, r := range s.snap.Load().records {
		if r.RevokedAt.IsZero() {
			out = append(out, TokenRecord{Token: r.Token, SHA256: hex.EncodeToString(r.Hash)})
		}
	}
	slices.SortFunc(out, func(a, b TokenRecord) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// tokenID returns the id of a token in the "sgt_<id>_<secret>" format, and
// whether it has that format.
func tokenID(secret string) (string, bool) {
	rest, ok := strings.CutPrefix(secret, tokenPrefix)
	if !ok {
		return "", false
	}
	id, sec, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 2*idBytes || len(sec) != base64.RawURLEncoding.EncodedLen(secretBytes) {
		return "", false
	}
	if _, err := hex.DecodeString(id); err != nil || strings.ToLower(id) != id {
		return "", false
	}
	return id, true
}

// maybeRefresh rereads the tokens when the snapshot is older than Refresh.
// Only one caller rereads; the others keep using the snapshot.
func (s *TokenStore) maybeRefresh() error {
	if s.opts.Refresh > 0 && s.now().Sub(s.snap.Load().read) < s.opts.Refresh {
		return nil
	}
	if !s.mu.TryLock() {
		return nil
	}
	defer s.mu.Unlock()
	return s.reload()
}

// reloadNow rereads the tokens, waiting for a reload under way.
func (s *TokenStore) reloadNow() error {
	if s.closed.Load() {
		return errClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reload()
}

// reload reads the tokens into a new snapshot; s.mu must be held.
func (s *TokenStore) reload() error {
	now := s.now()
	toks, err := s.st.Tokens(context.Background())
	if err != nil {
		return fmt.Errorf("read tokens: %w", err)
	}
	recs := make(map[string]*record, len(toks))
	for i := range toks {
		recs[toks[i].ID] = &toks[i]
	}
	s.snap.Store(&snapshot{read: now, records: recs})
	return nil
}

// checkToken validates Create's arguments, reporting every problem.
func checkToken(name string, scopes []Scope, maxLifetime time.Duration, r Rate) error {
	var errs []error
	switch {
	case name == "":
		errs = append(errs, errors.New("name: empty"))
	case len(name) > 100:
		errs = append(errs, errors.New("name: longer than 100 bytes"))
	case strings.ContainsFunc(name, unicode.IsControl):
		errs = append(errs, errors.New("name: has a control character"))
	}
	if len(scopes) == 0 {
		errs = append(errs, errors.New("scopes: at least one is needed"))
	}
	for i, sc := range scopes {
		if sc.Distribution == "" {
			errs = append(errs, fmt.Errorf("scopes[%d].distribution: empty", i))
		}
		if len(sc.Prefixes) == 0 {
			errs = append(errs, fmt.Errorf("scopes[%d].prefixes: at least one is needed (\"\" for the whole distribution)", i))
		}
		for j, p := range sc.Prefixes {
			if strings.HasPrefix(p, "/") {
				errs = append(errs, fmt.Errorf("scopes[%d].prefixes[%d]: %q starts with '/'; object keys do not", i, j, p))
			}
		}
	}
	if maxLifetime != 0 { // 0: no cap of its own
		if err := cfsign.CheckMaxLifetime(maxLifetime); err != nil {
			errs = append(errs, fmt.Errorf("max lifetime: %v is %w", maxLifetime, err))
		}
	}
	switch {
	case r.PerSecond < 0 || math.IsNaN(r.PerSecond) || math.IsInf(r.PerSecond, 0):
		errs = append(errs, errors.New("rate: per second must be a finite number >= 0"))
	case r.PerSecond > 0 && r.Burst < 1:
		errs = append(errs, errors.New("rate: burst must be at least 1"))
	case r.PerSecond == 0 && r.Burst != 0:
		errs = append(errs, errors.New("rate: burst without a rate"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("create token: %w", errors.Join(errs...))
	}
	return nil
}

func cloneScopes(scopes []Scope) []Scope {
	out := make([]Scope, len(scopes))
	for i, sc := range scopes {
		out[i] = Scope{Distribution: sc.Distribution, Prefixes: slices.Clone(sc.Prefixes)}
	}
	return out
}
