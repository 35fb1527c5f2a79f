package keysource_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/testenv"
)

// The URL every test signs, and the clock the links are checked at.
const testURL = "https://d111111abcdef8.cloudfront.net/videos/intro.mp4?lang=en"

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newECDSA(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pkcs8 returns key's PKCS#8 PEM.
func pkcs8(t testing.TB, key crypto.Signer) []byte {
	t.Helper()
	b, err := cfsign.MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signed is one link signed with a Key, taken apart for checking.
type signed struct {
	URL     string
	Policy  []byte // the canned policy the signature covers
	Sig     []byte // the decoded signature
	Expires time.Time
}

// signLink signs testURL with k through cfsign, as the signing API will,
// and checks the link with a cfsign.Verifier that trusts pub under trust's
// ids (k.ID must be among them). It returns the link taken apart.
func signLink(t testing.TB, k cfsign.Key, trust map[string]crypto.PublicKey) signed {
	t.Helper()
	s, err := cfsign.NewSigner(k.ID, k.Signer, k.Hash)
	if err != nil {
		t.Fatalf("cfsign.NewSigner(%s, %T, %v): %v", k.ID, k.Signer, k.Hash, err)
	}
	exp := testNow.Add(time.Hour)
	link, err := s.SignCanned(testURL, exp)
	if err != nil {
		t.Fatalf("SignCanned: %v", err)
	}
	v, err := cfsign.NewVerifier(trust, cfsign.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(&cfsign.Request{
		Scheme:   u.Scheme,
		Host:     u.Host,
		Target:   u.RequestURI(),
		ClientIP: netip.MustParseAddr("192.0.2.1"),
	})
	if err != nil {
		t.Fatalf("Verify(link signed by %s) = %v; want nil", k.ID, err)
	}
	if res.KeyID != k.ID || res.Hash != k.Hash {
		t.Errorf("Verify(link) verified key %s, hash %v; want %s, %v", res.KeyID, res.Hash, k.ID, k.Hash)
	}
	q := u.Query()
	if got := q.Get("Hash-Algorithm"); (k.Hash == cfsign.SHA256) != (got == "SHA256") {
		t.Errorf("link has Hash-Algorithm=%q; want SHA256 exactly when the key's hash is SHA256 (%v)", got, k.Hash)
	}
	sig, err := cfsign.Decode(q.Get("Signature"))
	if err != nil {
		t.Fatal(err)
	}
	return signed{URL: link, Policy: cfsign.CannedPolicy(testURL, exp.Unix()), Sig: sig, Expires: exp}
}

// opensslVerify checks the link's signature over its canned policy with
// `openssl dgst -verify`, independently of Go's crypto, and checks that
// openssl refuses the policy with one byte changed, so the check can fail.
func opensslVerify(t testing.TB, pub crypto.PublicKey, h cfsign.Hash, l signed) {
	t.Helper()
	openssl, err := exec.LookPath("openssl")
	testenv.Need(t, "openssl", err == nil)
	dir := t.TempDir()
	pubPEM, err := cfsign.MarshalPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"pub.pem":    pubPEM,
		"sig.bin":    l.Sig,
		"policy.txt": l.Policy,
		"other.txt":  bytes.Replace(l.Policy, []byte("intro"), []byte("intrO"), 1),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	digest := "-sha1"
	if h == cfsign.SHA256 {
		digest = "-sha256"
	}
	run := func(policy string) (string, error) {
		cmd := exec.Command(openssl, "dgst", digest, "-verify", "pub.pem", "-signature", "sig.bin", policy)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := run("policy.txt"); err != nil || out != "Verified OK" {
		t.Errorf("openssl dgst %s -verify pub.pem -signature sig.bin policy.txt = %q, %v; want \"Verified OK\"", digest, out, err)
	}
	if out, err := run("other.txt"); err == nil {
		t.Errorf("openssl dgst %s -verify of a changed policy = %q, nil; want a failure", digest, out)
	}
}
