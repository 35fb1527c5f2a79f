package signapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/signapi"
	"github.com/signet-dev/signet/internal/state/sqlite"
	"github.com/signet-dev/signet/internal/testenv"
)

// openTokenStore opens a SQLite state database at path, closed when t
// ends, and a TokenStore on it.
func openTokenStore(t testing.TB, path string, opts signapi.StoreOptions) (*signapi.TokenStore, error) {
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { st.Close() })
	return signapi.NewTokenStore(st, opts)
}

func openStore(t *testing.T, path string, opts signapi.StoreOptions) *signapi.TokenStore {
	t.Helper()
	s, err := openTokenStore(t, path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var mediaScope = []signapi.Scope{{Distribution: "media", Prefixes: []string{"reports/"}}}

func TestTokenLifecycle(t *testing.T) {
	c := testenv.NewClock(testNow)
	s := openStore(t, filepath.Join(t.TempDir(), "tokens.db"), signapi.StoreOptions{Now: c.Now})
	tok, secret, err := s.Create("billing app", mediaScope, time.Hour, signapi.Rate{PerSecond: 5, Burst: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^sgt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$`).MatchString(secret) {
		t.Errorf("secret %q is not sgt_<16 hex>_<43 base64url>", secret)
	}
	if !strings.HasPrefix(secret, "sgt_"+tok.ID+"_") {
		t.Errorf("secret does not carry the id %s", tok.ID)
	}
	want := signapi.Token{ID: tok.ID, Name: "billing app", Scopes: mediaScope, MaxLifetime: time.Hour,
		Rate: signapi.Rate{PerSecond: 5, Burst: 10}, CreatedAt: testNow}
	if got, _ := json.Marshal(tok); string(got) != mustJSON(t, want) {
		t.Errorf("Create() = %s; want %s", got, mustJSON(t, want))
	}

	got, err := s.Lookup(secret)
	if err != nil || mustJSON(t, got) != mustJSON(t, want) {
		t.Errorf("Lookup() = %+v, %v; want %+v", got, err, want)
	}
	c.Add(time.Second)
	other, otherSecret, err := s.Create("cdn", []signapi.Scope{{Distribution: "media", Prefixes: []string{""}}}, 0, signapi.Rate{})
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == tok.ID || otherSecret == secret {
		t.Fatal("two tokens share an id or a secret")
	}

	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != tok.ID || list[1].ID != other.ID {
		t.Errorf("List() = %+v; want the two tokens, oldest first", list)
	}
	listed, _ := json.Marshal(list)
	for _, s := range []string{secret, otherSecret, secret[21:], hashB64(secret), "hash"} {
		if bytes.Contains(listed, []byte(s)) {
			t.Errorf("List() output %s contains %q", listed, s)
		}
	}

	c.Add(time.Minute)
	if err := s.Revoke(tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(secret); !errors.Is(err, signapi.ErrInvalidToken) {
		t.Errorf("Lookup(revoked) = %v; want ErrInvalidToken", err)
	}
	if _, err := s.Lookup(otherSecret); err != nil {
		t.Errorf("Lookup(other) after revoking one = %v; want nil", err)
	}
	c.Add(time.Minute)
	if err := s.Revoke(tok.ID); err != nil {
		t.Errorf("Revoke twice = %v; want nil", err)
	}
	list, _ = s.List()
	firstRevocation := testNow.Add(time.Second + time.Minute)
	if !list[0].RevokedAt.Equal(firstRevocation) || !list[1].RevokedAt.IsZero() {
		t.Errorf("revoked_at = %v, %v; want %v (the first revocation), zero", list[0].RevokedAt, list[1].RevokedAt, firstRevocation)
	}
	if err := s.Revoke("0123456789abcdef"); !errors.Is(err, signapi.ErrUnknownToken) {
		t.Errorf("Revoke(unknown) = %v; want ErrUnknownToken", err)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(otherSecret); err == nil {
		t.Error("Lookup after Close = nil; want an error")
	}
	if _, _, err := s.Create("late", mediaScope, 0, signapi.Rate{}); err == nil {
		t.Error("Create after Close = nil; want an error")
	}
}

func TestLookupRefuses(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "tokens.db"), signapi.StoreOptions{})
	tok, secret, err := s.Create("app", mediaScope, 0, signapi.Rate{})
	if err != nil {
		t.Fatal(err)
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct{ name, secret string }{
		{"empty", ""},
		{"no prefix", strings.TrimPrefix(secret, "sgt_")},
		{"last byte changed", flip(secret, len(secret)-1)},
		{"first secret byte changed", flip(secret, 21)},
		{"unknown id", "sgt_0123456789abcdef_" + secret[21:]},
		{"upper-case id", "sgt_" + strings.ToUpper(tok.ID) + secret[20:]},
		{"secret too short", secret[:len(secret)-1]},
		{"trailing byte", secret + "A"},
		{"the hash", hashB64(secret)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Lookup(tc.secret)
			if !errors.Is(err, signapi.ErrInvalidToken) {
				t.Fatalf("Lookup(%q) = %v; want ErrInvalidToken", tc.secret, err)
			}
			if len(tc.secret) > 20 && strings.Contains(err.Error(), tc.secret[21:]) {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
}

// TestLookupComparesInConstantTime: every lookup, whatever the token, goes
// through the constant-time compare of two SHA-256 hashes.
func TestLookupComparesInConstantTime(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "tokens.db"), signapi.StoreOptions{})
	_, secret, err := s.Create("app", mediaScope, 0, signapi.Rate{})
	if err != nil {
		t.Fatal(err)
	}
	var calls []int
	restore := signapi.SetCompare(func(a, b []byte) int {
		calls = append(calls, len(a), len(b))
		return subtle.ConstantTimeCompare(a, b)
	})
	defer restore()
	for _, tok := range []string{secret, secret[:len(secret)-2] + "xx", "sgt_0123456789abcdef_" + secret[21:], "garbage"} {
		calls = nil
		s.Lookup(tok)
		if len(calls) != 2 || calls[0] != sha256.Size || calls[1] != sha256.Size {
			t.Errorf("Lookup(%.30q): compare calls (lengths) = %v; want one, of two 32-byte hashes", tok, calls)
		}
	}
}

// TestTokenFileHoldsHashesOnly reads the SQLite database's bytes, its
// write-ahead log included: the hash is there, the secret is not, in any
// form.
func TestTokenFileHoldsHashesOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.db")
	s := openStore(t, path, signapi.StoreOptions{})
	var secrets []string
	for _, name := range []string{"a", "b", "c"} {
		_, secret, err := s.Create(name, mediaScope, 0, signapi.Rate{})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, secret)
	}
	var data []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, b...)
	}
	for _, secret := range secrets {
		raw, err := base64.RawURLEncoding.DecodeString(secret[21:])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(secret))
		for name, b := range map[string][]byte{
			"token":           []byte(secret),
			"secret part":     []byte(secret[21:]),
			"raw secret":      raw,
			"raw secret half": raw[:16],
		} {
			if bytes.Contains(data, b) {
				t.Errorf("the file contains the %s", name)
			}
		}
		if !bytes.Contains(data, sum[:]) {
			t.Errorf("the file lacks the token's SHA-256; the test would not see a stored secret either")
		}
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode = %v, %v; want 0600", filepath.Base(p), fi.Mode().Perm(), err)
		}
	}
}

// TestTokenStoreSharedFile: two stores on one file, as `signet serve` and
// `signet token` are; each sees the other's changes within Refresh.
func TestTokenStoreSharedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.db")
	c := testenv.NewClock(testNow)
	server := openStore(t, path, signapi.StoreOptions{Now: c.Now, Refresh: time.Second})
	cli := openStore(t, path, signapi.StoreOptions{Now: c.Now})

	tok, secret, err := cli.Create("app", mediaScope, 0, signapi.Rate{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Lookup(secret); !errors.Is(err, signapi.ErrInvalidToken) {
		t.Errorf("Lookup before the refresh = %v; want ErrInvalidToken (tokens read at most every second)", err)
	}
	c.Add(time.Second)
	if _, err := server.Lookup(secret); err != nil {
		t.Errorf("Lookup after the refresh = %v; want nil", err)
	}
	if list, err := server.List(); err != nil || len(list) != 1 {
		t.Errorf("List() = %v, %v; want the token", list, err)
	}
	if err := cli.Revoke(tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Lookup(secret); err != nil {
		t.Errorf("Lookup within the refresh = %v; want nil (the revocation is seen within a second)", err)
	}
	c.Add(time.Second)
	if _, err := server.Lookup(secret); !errors.Is(err, signapi.ErrInvalidToken) {
		t.Errorf("Lookup after the refresh = %v; want ErrInvalidToken", err)
	}
	// A store rereading on every lookup sees changes at once.
	eager := openStore(t, path, signapi.StoreOptions{Now: c.Now, Refresh: -1})
	_, secret2, err := cli.Create("app2", mediaScope, 0, signapi.Rate{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eager.Lookup(secret2); err != nil {
		t.Errorf("Lookup with Refresh -1 = %v; want nil", err)
	}
}

func TestCreateValidates(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "tokens.db"), signapi.StoreOptions{})
	tests := []struct {
		name   string
		tname  string
		scopes []signapi.Scope
		life   time.Duration
		rate   signapi.Rate
		want   []string
	}{
		{"valid", "app", mediaScope, 0, signapi.Rate{PerSecond: 1, Burst: 1}, nil},
		{"everything wrong", "", nil, -time.Second, signapi.Rate{PerSecond: -1},
			[]string{"name: empty", "scopes: at least one", "max lifetime: -1s is below 1s", "rate: per second"}},
		{"cap past 2038", "app", mediaScope, cfsign.MaxLifetime + time.Second, signapi.Rate{}, []string{"max lifetime: 596523h14m8s is over 24855d3h14m7s"}},
		{"control character", "a\nb", mediaScope, 0, signapi.Rate{}, []string{"control character"}},
		{"bad scopes", "app", []signapi.Scope{{Prefixes: []string{"/reports/"}}, {Distribution: "media"}}, 0, signapi.Rate{},
			[]string{"scopes[0].distribution: empty", `scopes[0].prefixes[0]: "/reports/" starts with '/'`, "scopes[1].prefixes: at least one"}},
		{"rate without burst", "app", mediaScope, 0, signapi.Rate{PerSecond: 1}, []string{"burst must be at least 1"}},
		{"burst without rate", "app", mediaScope, 0, signapi.Rate{Burst: 3}, []string{"burst without a rate"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, secret, err := s.Create(tc.tname, tc.scopes, tc.life, tc.rate)
			if (err == nil) != (tc.want == nil) {
				t.Fatalf("Create() = %v; want error %t", err, tc.want != nil)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Create() = %v; want it to contain %q", err, w)
				}
			}
			if err != nil && secret != "" {
				t.Errorf("Create() returned a secret with an error")
			}
		})
	}
	if list, _ := s.List(); len(list) != 1 {
		t.Errorf("List() = %d tokens; want only the valid one stored", len(list))
	}
}

// TestTokenStoreErrors: a state store that cannot be read fails
// NewTokenStore, and every call of a TokenStore whose state store has gone.
func TestTokenStoreErrors(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "signet.db"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := signapi.NewTokenStore(st, signapi.StoreOptions{Refresh: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := s.Create("app", mediaScope, 0, signapi.Rate{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := signapi.NewTokenStore(st, signapi.StoreOptions{}); err == nil {
		t.Error("NewTokenStore on a closed state store = nil; want an error")
	}
	if _, _, err := s.Create("b", mediaScope, 0, signapi.Rate{}); err == nil {
		t.Error("Create = nil; want an error")
	}
	if _, err := s.List(); err == nil {
		t.Error("List = nil; want an error")
	}
	if err := s.Revoke("0123456789abcdef"); err == nil || errors.Is(err, signapi.ErrUnknownToken) {
		t.Errorf("Revoke = %v; want an error other than ErrUnknownToken", err)
	}
	if _, err := s.Lookup(secret); err == nil {
		t.Error("Lookup = nil; want an error")
	}
}

// TestTokenStoreConcurrent looks tokens up while others are created, for
// the race detector.
func TestTokenStoreConcurrent(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "tokens.db"), signapi.StoreOptions{Refresh: -1})
	_, secret, err := s.Create("app", mediaScope, 0, signapi.Rate{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := s.Lookup(secret); err != nil {
					t.Errorf("Lookup = %v; want nil", err)
					return
				}
			}
		})
	}
	for i := range 10 {
		if _, _, err := s.Create("more", mediaScope, 0, signapi.Rate{}); err != nil {
			t.Errorf("Create %d = %v", i, err)
		}
	}
	wg.Wait()
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func hashB64(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// TestStaticTokens: the records a TokenStore exports authenticate the same
// secrets in a StaticTokens, and nothing else.
func TestStaticTokens(t *testing.T) {
	store, err := openTokenStore(t, filepath.Join(t.TempDir(), "tokens.db"), signapi.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	scopes := []signapi.Scope{{Distribution: "media", Prefixes: []string{"reports/"}}}
	tok, secret, err := store.Create("ci", scopes, time.Hour, signapi.Rate{})
	if err != nil {
		t.Fatal(err)
	}
	gone, goneSecret, _ := store.Create("old", scopes, 0, signapi.Rate{})
	if err := store.Revoke(gone.ID); err != nil {
		t.Fatal(err)
	}
	recs, err := store.Export()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].ID != tok.ID {
		t.Fatalf("Export = %+v; want only the active token %s", recs, tok.ID)
	}
	data, _ := json.Marshal(recs)
	if strings.Contains(string(data), secret) {
		t.Fatal("exported records contain the secret")
	}
	st, err := signapi.ParseStaticTokens(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Lookup(secret)
	if err != nil || got.ID != tok.ID || got.MaxLifetime != time.Hour {
		t.Errorf("StaticTokens.Lookup(secret) = %+v, %v; want token %s", got, err, tok.ID)
	}
	for _, bad := range []string{goneSecret, otherLast(secret), "sgt_x", ""} {
		if _, err := st.Lookup(bad); !errors.Is(err, signapi.ErrInvalidToken) {
			t.Errorf("StaticTokens.Lookup(%.12q...) = %v; want ErrInvalidToken", bad, err)
		}
	}
	for _, bad := range []string{`[{"id":"a","sha256":"zz"}]`, `[{"id":"","sha256":"` + strings.Repeat("0", 64) + `"}]`, `[{"id":"a","sha256":"` + strings.Repeat("0", 64) + `","extra":1}]`, `{}`} {
		if _, err := signapi.ParseStaticTokens([]byte(bad)); err == nil {
			t.Errorf("ParseStaticTokens(%s) succeeded", bad)
		}
	}
}

// otherLast returns s with its last character changed, whatever it was:
// a secret ending in "A" must not get "A" again.
func otherLast(s string) string {
	last := "A"
	if strings.HasSuffix(s, "A") {
		last = "B"
	}
	return s[:len(s)-1] + last
}

// TestTokenRecordJSON checks the export format: the lifetime cap as a Go
// duration string and times in RFC 3339 UTC, read back as written; the
// earlier form, nanoseconds, is still read; and strict reading.
func TestTokenRecordJSON(t *testing.T) {
	created := time.Date(2026, 1, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	rec := signapi.TokenRecord{Token: signapi.Token{ID: "0123456789abcdef", Name: "a & b",
		Scopes: []signapi.Scope{{Distribution: "media", Prefixes: []string{"a/"}}}, MaxLifetime: 36 * time.Hour,
		Rate: signapi.Rate{PerSecond: 1, Burst: 2}, CreatedAt: created}, SHA256: strings.Repeat("0", 64)}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"max_lifetime":"36h0m0s"`, `"created_at":"2026-01-01T11:00:00Z"`, `"sha256":"` + rec.SHA256 + `"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("Marshal = %s; want %s", b, want)
		}
	}
	if strings.Contains(string(b), "revoked_at") {
		t.Errorf("Marshal = %s; want no revoked_at for an active token", b)
	}
	var back signapi.TokenRecord
	if err := json.Unmarshal(b, &back); err != nil || back.MaxLifetime != rec.MaxLifetime || !back.CreatedAt.Equal(created) || back.Name != rec.Name {
		t.Errorf("Unmarshal(Marshal) = %+v, %v; want %+v", back, err, rec)
	}
	legacy := strings.Replace(string(b), `"max_lifetime":"36h0m0s"`, `"max_lifetime":129600000000000`, 1)
	if err := json.Unmarshal([]byte(legacy), &back); err != nil || back.MaxLifetime != 36*time.Hour {
		t.Errorf("Unmarshal(nanoseconds) = %v, %v; want 36h", back.MaxLifetime, err)
	}
	none := strings.Replace(string(b), `"max_lifetime":"36h0m0s",`, ``, 1)
	if err := json.Unmarshal([]byte(none), &back); err != nil || back.MaxLifetime != 0 {
		t.Errorf("Unmarshal(no max_lifetime) = %v, %v; want 0", back.MaxLifetime, err)
	}
	for _, bad := range []string{`"max_lifetime":"soon"`, `"max_lifetime":"-1h"`, `"max_lifetime":-5`, `"extra":1`} {
		in := strings.Replace(string(b), `"max_lifetime":"36h0m0s"`, bad, 1)
		if err := json.Unmarshal([]byte(in), &back); err == nil {
			t.Errorf("Unmarshal with %s succeeded", bad)
		}
	}
}
