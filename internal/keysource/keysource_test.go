package keysource_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/keysource"
)

// marker stands for key material in payloads that must not reach an error.
// It is valid base64, so that PEM decoding gets past it.
const marker = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7secretAA"

// pemForms returns key in every PEM form signet reads.
func pemForms(t *testing.T, ec *ecdsa.PrivateKey, r *rsa.PrivateKey) map[string][]byte {
	t.Helper()
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"pkcs8-ecdsa": pkcs8(t, ec),
		"pkcs8-rsa":   pkcs8(t, r),
		"pkcs1-rsa":   pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(r)}),
		"sec1-ecdsa":  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}),
		"sec1-params-ecdsa": append([]byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})...),
	}
}

// TestFileEnv loads every PEM form from a file and from the environment,
// and signs and verifies a link with each.
func TestFileEnv(t *testing.T) {
	ec, r := newECDSA(t), newRSA(t)
	dir := t.TempDir()
	for name, data := range pemForms(t, ec, r) {
		t.Run(name, func(t *testing.T) {
			var want crypto.PublicKey = &r.PublicKey
			wantHash := cfsign.SHA1
			if strings.HasSuffix(name, "ecdsa") {
				want, wantHash = &ec.PublicKey, cfsign.SHA256
			}
			path := filepath.Join(dir, name+".pem")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("SIGNET_TEST_KEY", string(data))
			fromFile, err := keysource.File(path, "K2JCJMDEHXQW5F")
			if err != nil {
				t.Fatalf("File(%s) = %v", name, err)
			}
			fromEnv, err := keysource.Env("SIGNET_TEST_KEY", "K2JCJMDEHXQW5F")
			if err != nil {
				t.Fatalf("Env(%s) = %v", name, err)
			}
			for src, s := range map[string]keysource.Source{"File": fromFile, "Env": fromEnv} {
				k, err := s.Key(t.Context())
				if err != nil {
					t.Fatalf("%s.Key = %v", src, err)
				}
				if k.ID != "K2JCJMDEHXQW5F" || k.Hash != wantHash || !want.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Signer.Public()) {
					t.Errorf("%s.Key = id %s, hash %v, key %T; want K2JCJMDEHXQW5F, %v, the key written", src, k.ID, k.Hash, k.Signer, wantHash)
				}
				signLink(t, k, map[string]crypto.PublicKey{k.ID: want})
				if err := s.Close(); err != nil {
					t.Errorf("%s.Close = %v", src, err)
				}
			}
		})
	}
}

// TestFileEnvErrors checks that bad files and variables give errors that
// name the file or variable and never quote the key.
func TestFileEnvErrors(t *testing.T) {
	dir := t.TempDir()
	goodPEM := pkcs8(t, newECDSA(t))
	badBody := "-----BEGIN PRIVATE KEY-----\n" + marker + "\n-----END PRIVATE KEY-----\n"
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name  string
		load  func() error
		names string // what the error must name
		is    error
	}{
		{"missing file", func() error { _, err := keysource.File(filepath.Join(dir, "nope.pem"), "K1"); return err }, "nope.pem", fs.ErrNotExist},
		{"not PEM", func() error { _, err := keysource.File(write("text.pem", marker), "K1"); return err }, "text.pem", nil},
		{"corrupt PEM", func() error { _, err := keysource.File(write("bad.pem", badBody), "K1"); return err }, "bad.pem", nil},
		{"bad key id", func() error {
			_, err := keysource.File(write("good.pem", string(goodPEM)), "AKIAIOSFODNN7EXAMPLE")
			return err
		}, "good.pem", nil},
		{"empty key id", func() error { _, err := keysource.File(write("good2.pem", string(goodPEM)), ""); return err }, "good2.pem", nil},
		{"huge file", func() error {
			_, err := keysource.File(write("huge.pem", strings.Repeat(marker, 2000)), "K1")
			return err
		}, "huge.pem", nil},
		{"unset variable", func() error { _, err := keysource.Env("SIGNET_TEST_UNSET_KEY", "K1"); return err }, "SIGNET_TEST_UNSET_KEY", nil},
		{"corrupt variable", func() error {
			t.Setenv("SIGNET_TEST_BAD_KEY", badBody)
			_, err := keysource.Env("SIGNET_TEST_BAD_KEY", "K1")
			return err
		}, "SIGNET_TEST_BAD_KEY", nil},
		{"public key in variable", func() error {
			pub, _ := cfsign.MarshalPublicKey(&newECDSA(t).PublicKey)
			t.Setenv("SIGNET_TEST_PUB_KEY", string(pub))
			_, err := keysource.Env("SIGNET_TEST_PUB_KEY", "K1")
			return err
		}, "SIGNET_TEST_PUB_KEY", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.load()
			if err == nil {
				t.Fatal("err = nil; want an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.names) {
				t.Errorf("err = %q; want it to name %q", msg, tc.names)
			}
			if strings.Contains(msg, marker[:24]) || strings.Contains(msg, "BEGIN") && !strings.Contains(tc.name, "public") {
				t.Errorf("err = %q; it quotes the key", msg)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v; want errors.Is %v", err, tc.is)
			}
		})
	}
}

// TestParseSecret covers both payload forms and their refusals.
func TestParseSecret(t *testing.T) {
	ec, r := newECDSA(t), newRSA(t)
	ecPEM, rsaPEM := string(pkcs8(t, ec)), string(pkcs8(t, r))
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	good := []struct {
		name, payload, keyID string
		wantID               string
		wantPub              crypto.PublicKey
		wantHash             cfsign.Hash
	}{
		{"PEM", ecPEM, "KPEM", "KPEM", &ec.PublicKey, cfsign.SHA256},
		{"PEM with spaces", "\n  " + rsaPEM + "\n\n", "KPEM", "KPEM", &r.PublicKey, cfsign.SHA1},
		{"JSON", js(map[string]any{"key_id": "KJSON", "private_key": ecPEM}), "", "KJSON", &ec.PublicKey, cfsign.SHA256},
		{"JSON id wins", js(map[string]any{"key_id": "KJSON", "private_key": rsaPEM}), "KCONF", "KJSON", &r.PublicKey, cfsign.SHA1},
		{"JSON without id", js(map[string]any{"private_key": ecPEM}), "KCONF", "KCONF", &ec.PublicKey, cfsign.SHA256},
		{"JSON empty id", js(map[string]any{"key_id": "", "private_key": ecPEM}), "KCONF", "KCONF", &ec.PublicKey, cfsign.SHA256},
		{"JSON indented", "  {\n  \"private_key\": " + js(ecPEM) + ",\n  \"key_id\": \"KJSON\"\n}\n", "", "KJSON", &ec.PublicKey, cfsign.SHA256},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			k, err := keysource.ParseSecret([]byte(tc.payload), tc.keyID)
			if err != nil {
				t.Fatalf("ParseSecret = %v; want a key", err)
			}
			if k.ID != tc.wantID || k.Hash != tc.wantHash || !tc.wantPub.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Signer.Public()) {
				t.Errorf("ParseSecret = id %s, hash %v; want %s, %v and the key", k.ID, k.Hash, tc.wantID, tc.wantHash)
			}
			signLink(t, k, map[string]crypto.PublicKey{k.ID: tc.wantPub})
		})
	}

	enc := "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\n" + marker + "\n-----END RSA PRIVATE KEY-----\n"
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name, payload, keyID, want string
	}{
		{"empty", "", "K1", "no PEM private key"},
		{"not PEM", marker, "K1", "no PEM private key"},
		{"corrupt PEM", "-----BEGIN PRIVATE KEY-----\n" + marker + "\n-----END PRIVATE KEY-----\n", "K1", "private key"},
		{"encrypted PEM", enc, "K1", "encrypted"},
		{"P-384 key", string(pkcs8(t, p384)), "K1", "P-256"},
		{"no key id", ecPEM, "", "no key pair id"},
		{"bad key id", ecPEM, "K 1", "key id"},
		{"JSON bad key id", js(map[string]any{"key_id": "-----BEGIN PRIVATE KEY-----" + marker, "private_key": ecPEM}), "", "looks like a PEM key"},
		{"JSON without private_key", js(map[string]any{"key_id": "K1"}), "", `without "private_key"`},
		{"JSON null private_key", `{"key_id":"K1","private_key":null}`, "", `without "private_key"`},
		{"JSON private_key not PEM", js(map[string]any{"key_id": "K1", "private_key": marker}), "", "no PEM private key"},
		{"JSON private_key number", `{"key_id":"K1","private_key":12345678901234567890}`, "", `"private_key" must be a string`},
		{"JSON unknown field", js(map[string]any{"key_id": "K1", "private_key": ecPEM, marker: marker}), "", "fields other than"},
		{"JSON syntax error", `{"key_id":"K1","private_key":"` + marker + `" ` + marker + `}`, "", "invalid JSON at offset"},
		{"JSON truncated", `{"key_id":"K1","private_key":"` + marker, "", "truncated JSON"},
		{"JSON trailing data", js(map[string]any{"private_key": ecPEM}) + marker, "K1", "data after the JSON object"},
		{"JSON two objects", js(map[string]any{"private_key": ecPEM}) + "{}", "K1", "data after the JSON object"},
		{"JSON array", "[" + js(map[string]any{"private_key": ecPEM}) + "]", "K1", "no PEM private key"},
		{"huge", strings.Repeat(marker, 2000), "K1", "longer than"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			k, err := keysource.ParseSecret([]byte(tc.payload), tc.keyID)
			if err == nil {
				t.Fatalf("ParseSecret = key %s; want an error containing %q", k.ID, tc.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("ParseSecret = %q; want an error containing %q", msg, tc.want)
			}
			if strings.Contains(msg, marker[:16]) || strings.Contains(msg, "BEGIN") {
				t.Errorf("ParseSecret = %q; the error quotes the secret", msg)
			}
		})
	}
}

// TestKeyAllows checks which hashes each kind of key may sign with, and
// that NewStatic enforces it.
func TestKeyAllows(t *testing.T) {
	ec, r := newECDSA(t), newRSA(t)
	tests := []struct {
		name   string
		signer crypto.Signer
		sha1   bool
	}{
		{"local RSA", r, true},
		{"ECDSA", ec, false},
		{"remote RSA", remote{r}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := cfsign.Key{ID: "K1", Signer: tc.signer, Hash: cfsign.SHA256}
			if !k.Allows(cfsign.SHA256) {
				t.Errorf("Allows(SHA256) = false; want true")
			}
			if got := k.Allows(cfsign.SHA1); got != tc.sha1 {
				t.Errorf("Allows(SHA1) = %v; want %v", got, tc.sha1)
			}
			if _, err := keysource.NewStatic(k); err != nil {
				t.Errorf("NewStatic(SHA256) = %v; want nil", err)
			}
			k.Hash = cfsign.SHA1
			if _, err := keysource.NewStatic(k); (err == nil) != tc.sha1 {
				t.Errorf("NewStatic(SHA1) = %v; want an error: %v", err, !tc.sha1)
			}
		})
	}
	if _, err := keysource.NewStatic(cfsign.Key{ID: "K1"}); err == nil {
		t.Error("NewStatic without a signer = nil; want an error")
	}
}

// remote hides the key's type, as a signer in an HSM or KMS would.
type remote struct{ crypto.Signer }
