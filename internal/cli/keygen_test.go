package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cfsign"
)

func TestKeygen(t *testing.T) {
	tests := []struct {
		typ  string // "" means the default
		algo string
	}{
		{"", "ECDSA-P256"},
		{"ecdsa", "ECDSA-P256"},
		{"rsa", "RSA-2048"},
	}
	for _, tc := range tests {
		t.Run("type="+tc.typ, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a", "keys") // parents missing too
			args := []string{"keygen", "--out", dir}
			if tc.typ != "" {
				args = append(args, "--type", tc.typ)
			}
			r := mustRun(t, args...)

			id, rest, _ := strings.Cut(r.stdout, "\n")
			if rest != "" {
				t.Errorf("stdout = %q; want only the key id line", r.stdout)
			}
			if err := cfsign.CheckKeyID(id); err != nil || !strings.HasPrefix(id, "K") || len(id) != 14 {
				t.Errorf("key id %q: %v; want K and 13 base32 characters", id, err)
			}
			if !strings.Contains(r.stderr, "signet sign --key") || !strings.Contains(r.stderr, tc.algo) {
				t.Errorf("stderr = %q; want a hint naming %s and signet sign", r.stderr, tc.algo)
			}
			if strings.Contains(r.stdout+r.stderr, "PRIVATE KEY") {
				t.Errorf("keygen printed key material:\n%s%s", r.stdout, r.stderr)
			}

			for path, want := range map[string]os.FileMode{
				dir:                                   os.ModeDir | 0o700,
				filepath.Join(dir, "private_key.pem"): 0o600,
				filepath.Join(dir, "public_key.pem"):  0o644 &^ umask(t),
			} {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode(); got != want {
					t.Errorf("mode of %s = %v; want %v", path, got, want)
				}
			}

			privPEM, err := os.ReadFile(filepath.Join(dir, "private_key.pem"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(privPEM), "-----BEGIN PRIVATE KEY-----\n") {
				t.Errorf("private key is not PKCS#8 PEM: %.40q", privPEM)
			}
			priv, err := cfsign.ParsePrivateKey(privPEM)
			if err != nil {
				t.Fatal(err)
			}
			pubPEM, err := os.ReadFile(filepath.Join(dir, "public_key.pem"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(pubPEM), "-----BEGIN PUBLIC KEY-----\n") {
				t.Errorf("public key is not SPKI PEM: %.40q", pubPEM)
			}
			pub, err := cfsign.ParsePublicKey(pubPEM)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfsign.Algorithm(pub); got != tc.algo {
				t.Errorf("Algorithm(public key) = %s; want %s", got, tc.algo)
			}
			if wantID, _ := cfsign.KeyID(priv.Public()); id != wantID {
				t.Errorf("printed key id %s; KeyID(private key) = %s", id, wantID)
			}
			if pubID, _ := cfsign.KeyID(pub); pubID != id {
				t.Errorf("KeyID(public key) = %s; want %s: the files are not one pair", pubID, id)
			}
		})
	}
}

// umask returns the process umask, which applies to the public key's mode.
func umask(t *testing.T) os.FileMode {
	t.Helper()
	p := filepath.Join(t.TempDir(), "probe")
	if err := os.WriteFile(p, nil, 0o777); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return 0o777 &^ fi.Mode().Perm()
}

// TestKeygenNeverOverwrites checks that an existing key file makes keygen
// refuse, leaving every file as it was and no half pair behind.
func TestKeygenNeverOverwrites(t *testing.T) {
	for _, existing := range []string{"private_key.pem", "public_key.pem"} {
		t.Run(existing, func(t *testing.T) {
			dir := t.TempDir()
			old := filepath.Join(dir, existing)
			if err := os.WriteFile(old, []byte("keep me"), 0o600); err != nil {
				t.Fatal(err)
			}
			wantError(t, run(t, "keygen", "--out", dir), "keygen", "already exists; refusing to overwrite a key")
			if b, _ := os.ReadFile(old); string(b) != "keep me" {
				t.Errorf("%s = %q after keygen; want it untouched", existing, b)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("directory holds %d files after a refusal; want only %s", len(entries), existing)
			}
		})
	}

	// A second keygen into the same directory is refused too.
	dir := t.TempDir()
	mustRun(t, "keygen", "--out", dir)
	wantError(t, run(t, "keygen", "--out", dir), "keygen", "private_key.pem already exists")
}

func TestKeygenErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	wantError(t, run(t, "keygen", "--type", "dsa", "--out", t.TempDir()), "keygen", `--type "dsa" is not ecdsa or rsa`)
	wantError(t, run(t, "keygen", "--out", filepath.Join(file, "sub")), "keygen", "create output directory")
}
