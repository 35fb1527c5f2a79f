package keysource_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/keysource"
	"github.com/signet-dev/signet/internal/testenv"
)

// kmsKey is a key made in moto, with its public key fetched independently
// of keysource.
type kmsKey struct {
	id, arn string
	pub     crypto.PublicKey
}

func createKMSKey(t testing.TB, m *testenv.MotoServer, spec kmstypes.KeySpec, usage kmstypes.KeyUsageType) kmsKey {
	t.Helper()
	c := kms.NewFromConfig(m.AWSConfig())
	out, err := c.CreateKey(t.Context(), &kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage})
	if err != nil {
		t.Fatalf("CreateKey(%s, %s): %v", spec, usage, err)
	}
	k := kmsKey{id: aws.ToString(out.KeyMetadata.KeyId), arn: aws.ToString(out.KeyMetadata.Arn)}
	if usage == kmstypes.KeyUsageTypeSignVerify {
		pk, err := c.GetPublicKey(t.Context(), &kms.GetPublicKeyInput{KeyId: out.KeyMetadata.KeyId})
		if err != nil {
			t.Fatalf("GetPublicKey: %v", err)
		}
		if k.pub, err = x509.ParsePKIXPublicKey(pk.PublicKey); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func kmsConfig(m *testenv.MotoServer, keyID, pairID string) keysource.KMSConfig {
	return keysource.KMSConfig{KeyID: keyID, PairID: pairID, Region: m.Region, Endpoint: m.Endpoint, Credentials: m.Credentials}
}

// TestKMS signs links with ECC_NIST_P256 and RSA_2048 keys held in a real
// moto KMS, named by id, ARN and alias, and checks them with cfsign's
// verifier and with openssl against the public key GetPublicKey returns.
func TestKMS(t *testing.T) {
	m := testenv.Moto(t)
	c := kms.NewFromConfig(m.AWSConfig())
	for _, spec := range []kmstypes.KeySpec{kmstypes.KeySpecEccNistP256, kmstypes.KeySpecRsa2048} {
		t.Run(string(spec), func(t *testing.T) {
			key := createKMSKey(t, m, spec, kmstypes.KeyUsageTypeSignVerify)
			alias := "alias/cloudfront-" + strings.ToLower(string(spec))
			if _, err := c.CreateAlias(t.Context(), &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(key.id)}); err != nil {
				t.Fatalf("CreateAlias: %v", err)
			}
			for _, name := range []string{key.id, key.arn, alias} {
				s, err := keysource.KMS(t.Context(), kmsConfig(m, name, "K2JCJMDEHXQW5F"))
				if err != nil {
					t.Fatalf("KMS(%s) = %v", name, err)
				}
				k, err := s.Key(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if k.ID != "K2JCJMDEHXQW5F" || k.Hash != cfsign.SHA256 || k.Allows(cfsign.SHA1) {
					t.Errorf("KMS(%s).Key = id %s, hash %v, SHA-1 allowed %v; want K2JCJMDEHXQW5F, SHA256, false", name, k.ID, k.Hash, k.Allows(cfsign.SHA1))
				}
				if _, local := k.Signer.(*rsa.PrivateKey); local {
					t.Errorf("KMS(%s).Key().Signer is a local RSA key", name)
				}
				if !key.pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Signer.Public()) {
					t.Errorf("KMS(%s).Key().Signer.Public() is not the key GetPublicKey returns", name)
				}
				l := signLink(t, k, map[string]crypto.PublicKey{"K2JCJMDEHXQW5F": key.pub})
				opensslVerify(t, key.pub, cfsign.SHA256, l)
			}
		})
	}
}

// TestKMSSignRefusals checks the KMS signer refuses what CloudFront or KMS
// cannot do: SHA-1, PSS, a digest of the wrong size, and a deleted key.
func TestKMSSignRefusals(t *testing.T) {
	m := testenv.Moto(t)
	key := createKMSKey(t, m, kmstypes.KeySpecRsa2048, kmstypes.KeyUsageTypeSignVerify)
	s, err := keysource.KMS(t.Context(), kmsConfig(m, key.id, "KRSA"))
	if err != nil {
		t.Fatal(err)
	}
	k, _ := s.Key(t.Context())
	d1 := sha1.Sum([]byte("policy"))
	d256 := sha256.Sum256([]byte("policy"))
	tests := []struct {
		name   string
		digest []byte
		opts   crypto.SignerOpts
		want   string
	}{
		{"SHA-1", d1[:], crypto.SHA1, "only SHA-256 digests"},
		{"no hash", d256[:], crypto.Hash(0), "only SHA-256 digests"},
		{"PSS", d256[:], &rsa.PSSOptions{Hash: crypto.SHA256}, "not PSS"},
		{"short digest", d256[:20], crypto.SHA256, "digest of 20 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := k.Signer.Sign(rand.Reader, tc.digest, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Sign = %d bytes, %v; want an error containing %q", len(sig), err, tc.want)
			}
		})
	}
	if _, err := keysource.NewStatic(cfsign.Key{ID: k.ID, Signer: k.Signer, Hash: cfsign.SHA1}); err == nil {
		t.Error("NewStatic(KMS key with SHA1) = nil; want an error")
	}
	// cfsign lets an RSA signer try SHA-1; the KMS signer refuses it.
	if signer, err := cfsign.NewSigner(k.ID, k.Signer, cfsign.SHA1); err == nil {
		if _, err := signer.SignCanned(testURL, testNow); err == nil || !strings.Contains(err.Error(), "SHA-256") {
			t.Errorf("SignCanned with SHA1 through KMS = %v; want an error naming SHA-256", err)
		}
	}

	// A key that has gone: KMS's error reaches the caller, naming the key.
	// (moto does not refuse a disabled key, so its state is reset instead.)
	resp, err := http.Post(m.Endpoint+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	signer, err := cfsign.NewSigner(k.ID, k.Signer, k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if link, err := signer.SignCanned(testURL, testNow); err == nil || !strings.Contains(err.Error(), key.id) ||
		!strings.Contains(err.Error(), "NotFoundException") {
		t.Errorf("SignCanned with a deleted KMS key = %q, %v; want a NotFoundException naming the key", link, err)
	}
}

// TestKMSErrors checks clear errors for keys that cannot sign CloudFront
// links and for bad configs.
func TestKMSErrors(t *testing.T) {
	m := testenv.Moto(t)
	symmetric := createKMSKey(t, m, kmstypes.KeySpecSymmetricDefault, kmstypes.KeyUsageTypeEncryptDecrypt)
	encrypt := createKMSKey(t, m, kmstypes.KeySpecRsa2048, kmstypes.KeyUsageTypeEncryptDecrypt)
	p384 := createKMSKey(t, m, kmstypes.KeySpecEccNistP384, kmstypes.KeyUsageTypeSignVerify)
	rsa4096 := createKMSKey(t, m, kmstypes.KeySpecRsa4096, kmstypes.KeyUsageTypeSignVerify)
	good := createKMSKey(t, m, kmstypes.KeySpecEccNistP256, kmstypes.KeyUsageTypeSignVerify)
	tests := []struct {
		name          string
		keyID, pairID string
		want          []string
	}{
		{"symmetric key", symmetric.id, "K1", []string{symmetric.id, `key spec "SYMMETRIC_DEFAULT"`, "ECC_NIST_P256 or RSA_2048"}},
		{"encrypt-only key", encrypt.id, "K1", []string{encrypt.id, `key usage "ENCRYPT_DECRYPT"`, "SIGN_VERIFY"}},
		{"P-384 key", p384.id, "K1", []string{`key spec "ECC_NIST_P384"`}},
		{"RSA-4096 key", rsa4096.id, "K1", []string{`key spec "RSA_4096"`}},
		{"missing alias", "alias/nope", "K1", []string{"kms key alias/nope: get public key", "NotFoundException"}},
		{"missing key", "11111111-2222-3333-4444-555555555555", "K1", []string{"NotFoundException"}},
		{"no key", "", "K1", []string{"key_id: required"}},
		{"bad pair id", good.id, "AKIAIOSFODNN7EXAMPLE", []string{"pair_id:", "IAM access key"}},
		{"no pair id", good.id, "", []string{"pair_id:", "empty"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := keysource.KMS(t.Context(), kmsConfig(m, tc.keyID, tc.pairID))
			if err == nil {
				k, _ := s.Key(t.Context())
				t.Fatalf("KMS = key %s; want an error containing %q", k.ID, tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("KMS = %q; want it to contain %q", err, w)
				}
			}
		})
	}
}

// TestKMSConcurrent signs from many goroutines at once through one source
// and one cfsign.Signer (run with -race), each link checked.
func TestKMSConcurrent(t *testing.T) {
	m := testenv.Moto(t)
	key := createKMSKey(t, m, kmstypes.KeySpecEccNistP256, kmstypes.KeyUsageTypeSignVerify)
	s, err := keysource.KMS(t.Context(), kmsConfig(m, key.id, "KCONCURRENT"))
	if err != nil {
		t.Fatal(err)
	}
	k, _ := s.Key(t.Context())
	signer, err := cfsign.NewSigner(k.ID, k.Signer, k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	v, err := cfsign.NewVerifier(map[string]crypto.PublicKey{"KCONCURRENT": key.pub}, cfsign.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			raw := testURL + "&n=" + strconv.Itoa(i)
			link, err := signer.SignCanned(raw, testNow.Add(time.Hour))
			if err != nil {
				t.Errorf("SignCanned(%s) = %v", raw, err)
				return
			}
			u, _ := url.Parse(link)
			if _, err := v.Verify(&cfsign.Request{Scheme: u.Scheme, Host: u.Host, Target: u.RequestURI()}); err != nil {
				t.Errorf("Verify(link %d) = %v; want nil", i, err)
			}
		})
	}
	wg.Wait()
}

// TestKMSWrongSignature puts a proxy between the signer and moto that
// flips a bit of every signature KMS returns: the signer must notice and
// refuse, so a wrong signature never reaches a link.
func TestKMSWrongSignature(t *testing.T) {
	m := testenv.Moto(t)
	key := createKMSKey(t, m, kmstypes.KeySpecEccNistP256, kmstypes.KeyUsageTypeSignVerify)
	target, err := url.Parse(m.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Header.Get("X-Amz-Target") != "TrentService.Sign" || resp.StatusCode != http.StatusOK {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			return err
		}
		sig, err := base64.StdEncoding.DecodeString(v["Signature"].(string))
		if err != nil {
			return err
		}
		sig[len(sig)-1] ^= 1
		v["Signature"] = base64.StdEncoding.EncodeToString(sig)
		if body, err = json.Marshal(v); err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(proxy)
	defer srv.Close()

	cfg := kmsConfig(m, key.id, "KFLIPPED")
	cfg.Endpoint = srv.URL
	s, err := keysource.KMS(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := s.Key(t.Context())
	d := sha256.Sum256([]byte("policy"))
	if sig, err := k.Signer.Sign(rand.Reader, d[:], crypto.SHA256); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("Sign through a proxy that corrupts signatures = %d bytes, %v; want a \"does not verify\" error", len(sig), err)
	}
}
