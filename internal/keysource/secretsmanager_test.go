package keysource_test

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/keysource"
	"github.com/signet-dev/signet/internal/testenv"
)

// secretJSON is the JSON form of a secret.
func secretJSON(t testing.TB, keyID string, key crypto.Signer) string {
	t.Helper()
	b, err := json.Marshal(map[string]string{"key_id": keyID, "private_key": string(pkcs8(t, key))})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// smConfig is a config that reaches m explicitly.
func smConfig(m *testenv.MotoServer, secretID string) keysource.SecretsManagerConfig {
	return keysource.SecretsManagerConfig{
		SecretID:    secretID,
		Region:      m.Region,
		Endpoint:    m.Endpoint,
		Credentials: m.Credentials,
	}
}

func createSecret(t testing.TB, c *secretsmanager.Client, name, value string) {
	t.Helper()
	if _, err := c.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}); err != nil {
		t.Fatalf("CreateSecret(%s): %v", name, err)
	}
}

func putSecret(t testing.TB, c *secretsmanager.Client, name, value string) {
	t.Helper()
	if _, err := c.PutSecretValue(t.Context(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value)}); err != nil {
		t.Fatalf("PutSecretValue(%s): %v", name, err)
	}
}

// TestSecretsManager reads both payload forms, and a binary secret, from a
// real moto server, and checks each link with cfsign and with openssl.
func TestSecretsManager(t *testing.T) {
	m := testenv.Moto(t)
	c := secretsmanager.NewFromConfig(m.AWSConfig())
	ec, r := newECDSA(t), newRSA(t)
	createSecret(t, c, "cloudfront/json-ecdsa", secretJSON(t, "KJSONECDSA", ec))
	createSecret(t, c, "cloudfront/pem-rsa", string(pkcs8(t, r)))
	if _, err := c.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{
		Name: aws.String("cloudfront/binary-ecdsa"), SecretBinary: pkcs8(t, ec),
	}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		secret, keyID string
		wantID        string
		pub           crypto.PublicKey
		hash          cfsign.Hash
	}{
		{"cloudfront/json-ecdsa", "", "KJSONECDSA", &ec.PublicKey, cfsign.SHA256},
		{"cloudfront/pem-rsa", "KPEMRSA", "KPEMRSA", &r.PublicKey, cfsign.SHA1},
		{"cloudfront/binary-ecdsa", "KBINARY", "KBINARY", &ec.PublicKey, cfsign.SHA256},
	}
	for _, tc := range tests {
		t.Run(tc.secret, func(t *testing.T) {
			cfg := smConfig(m, tc.secret)
			cfg.KeyID = tc.keyID
			s, err := keysource.SecretsManager(t.Context(), cfg)
			if err != nil {
				t.Fatalf("SecretsManager(%s) = %v", tc.secret, err)
			}
			defer s.Close()
			k, err := s.Key(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if k.ID != tc.wantID || k.Hash != tc.hash {
				t.Errorf("Key = id %s, hash %v; want %s, %v", k.ID, k.Hash, tc.wantID, tc.hash)
			}
			l := signLink(t, k, map[string]crypto.PublicKey{tc.wantID: tc.pub})
			opensslVerify(t, tc.pub, k.Hash, l)
		})
	}
}

// TestSecretsManagerRotation rotates the secret to a new key and key id
// and waits (bounded) for the background refresher to pick it up; then a
// broken version is refused and the last good key kept, with a log line
// that holds no key material, and a new key under the old id is warned
// about.
func TestSecretsManagerRotation(t *testing.T) {
	m := testenv.Moto(t)
	c := secretsmanager.NewFromConfig(m.AWSConfig())
	k1, k2 := newECDSA(t), newRSA(t)
	v1, v2 := secretJSON(t, "KROTATEV1", k1), secretJSON(t, "KROTATEV2", k2)
	createSecret(t, c, "cloudfront/rotating", v1)

	var logs testenv.Buffer
	cfg := smConfig(m, "cloudfront/rotating")
	cfg.Refresh = 100 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := keysource.SecretsManager(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	trust := map[string]crypto.PublicKey{"KROTATEV1": &k1.PublicKey, "KROTATEV2": &k2.PublicKey}
	key := func() cfsign.Key {
		k, err := s.Key(t.Context())
		if err != nil {
			t.Fatalf("Key = %v", err)
		}
		return k
	}
	if got := key().ID; got != "KROTATEV1" {
		t.Fatalf("Key().ID = %s; want KROTATEV1", got)
	}
	signLink(t, key(), trust)

	putSecret(t, c, "cloudfront/rotating", v2)
	testenv.Wait(t, "the refresher to take KROTATEV2", func() error {
		if id := key().ID; id != "KROTATEV2" {
			return fmt.Errorf("Key().ID = %s", id)
		}
		return nil
	})
	if !k2.PublicKey.Equal(key().Signer.Public()) {
		t.Error("Key() after rotation has id KROTATEV2 but not its key")
	}
	signLink(t, key(), trust)
	// The refresher logs after it swaps the key in.
	logs.WaitFor(t, "signing key changed")

	// A broken version: refused, the last good key stays, the failure is
	// logged without the payload.
	putSecret(t, c, "cloudfront/rotating", `{"key_id":"KROTATEV3","private_key":"-----BEGIN PRIVATE KEY-----\n`+marker+`\n-----END PRIVATE KEY-----\n"}`)
	if err := s.Refresh(t.Context()); err == nil || !strings.Contains(err.Error(), "cloudfront/rotating") {
		t.Errorf("Refresh of a broken version = %v; want an error naming the secret", err)
	} else if strings.Contains(err.Error(), marker[:16]) {
		t.Errorf("Refresh = %q; the error quotes the secret", err)
	}
	if got := key().ID; got != "KROTATEV2" {
		t.Errorf("Key().ID after a broken version = %s; want the last good KROTATEV2", got)
	}
	logs.WaitFor(t, "secret refresh failed")
	signLink(t, key(), trust)

	// A new key under the old id is taken (the secret is the authority)
	// but warned about: CloudFront would refuse its links.
	k3 := newECDSA(t)
	putSecret(t, c, "cloudfront/rotating", secretJSON(t, "KROTATEV2", k3))
	if err := s.Refresh(t.Context()); err != nil {
		t.Fatalf("Refresh = %v", err)
	}
	if !k3.PublicKey.Equal(key().Signer.Public()) {
		t.Error("Key() after a new key under the same id is not the new key")
	}
	if !strings.Contains(logs.String(), "signing key changed under the same key id") {
		t.Errorf("log = %q; want a warning about a new key under the same key id", logs.String())
	}

	if err := s.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if got := key().ID; got != "KROTATEV2" {
		t.Errorf("Key().ID after Close = %s; want KROTATEV2", got)
	}
	out := logs.String()
	for _, secret := range []string{marker[:16], "PRIVATE KEY", string(pkcs8(t, k2))[40:80]} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds key material %q:\n%s", secret, out)
		}
	}
}

// TestSecretsManagerCheck runs a secret source with a Check, as the server
// does: a first key the check refuses fails the source, and a rotated key
// it refuses (another key under a trusted id, then an id nobody trusts) is
// not used, is logged as an error without key material and reaches
// OnRefreshError; a good rotation after that is taken.
func TestSecretsManagerCheck(t *testing.T) {
	m := testenv.Moto(t)
	c := secretsmanager.NewFromConfig(m.AWSConfig())
	k1, k2, wrong := newECDSA(t), newRSA(t), newECDSA(t)
	trusted := map[string]crypto.PublicKey{"KCHECK1": &k1.PublicKey, "KCHECK2": &k2.PublicKey}
	check := func(k cfsign.Key) error { return cfsign.CheckSigner(k.ID, k.Signer.Public(), trusted) }

	createSecret(t, c, "cloudfront/refused-at-start", secretJSON(t, "KCHECK1", wrong))
	cfg := smConfig(m, "cloudfront/refused-at-start")
	cfg.Check = check
	if s, err := keysource.SecretsManager(t.Context(), cfg); !errors.Is(err, cfsign.ErrSignerMismatch) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("SecretsManager with a refused first key = %v; want an error matching ErrSignerMismatch", err)
	}

	createSecret(t, c, "cloudfront/checked", secretJSON(t, "KCHECK1", k1))
	var (
		logs testenv.Buffer
		mu   sync.Mutex
		errs []error
	)
	cfg = smConfig(m, "cloudfront/checked")
	cfg.Refresh = 100 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	cfg.Check = check
	cfg.OnRefreshError = func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	s, err := keysource.SecretsManager(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key := func() cfsign.Key {
		k, _ := s.Key(t.Context())
		return k
	}
	reported := func(target error) error {
		mu.Lock()
		defer mu.Unlock()
		if !slices.ContainsFunc(errs, func(err error) bool { return errors.Is(err, target) }) {
			return fmt.Errorf("OnRefreshError got %v", errs)
		}
		return nil
	}
	for _, step := range []struct {
		name, id string
		key      crypto.Signer
		want     error
	}{
		{"another key under a trusted id", "KCHECK1", wrong, cfsign.ErrSignerMismatch},
		{"an id nobody trusts", "KNOBODY", wrong, cfsign.ErrSignerUntrusted},
	} {
		putSecret(t, c, "cloudfront/checked", secretJSON(t, step.id, step.key))
		testenv.Wait(t, fmt.Sprintf("%s: OnRefreshError with an error matching %v", step.name, step.want), func() error {
			return reported(step.want)
		})
		if k := key(); k.ID != "KCHECK1" || !k1.PublicKey.Equal(k.Signer.Public()) {
			t.Errorf("%s: Key() = %s; want the last good key, KCHECK1", step.name, k.ID)
		}
	}
	out := logs.WaitFor(t, "level=ERROR msg=\"secret refresh failed; keeping the last good key\"")
	for _, secret := range []string{"PRIVATE KEY", string(pkcs8(t, wrong))[40:80]} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds key material %q:\n%s", secret, out)
		}
	}

	putSecret(t, c, "cloudfront/checked", secretJSON(t, "KCHECK2", k2))
	testenv.Wait(t, "the refresher to take KCHECK2, a trusted rotation", func() error {
		if id := key().ID; id != "KCHECK2" {
			return fmt.Errorf("Key().ID = %s", id)
		}
		return nil
	})
}

// TestSecretsManagerErrors checks clear errors, without key material, for
// secrets that cannot work and for bad configs.
func TestSecretsManagerErrors(t *testing.T) {
	m := testenv.Moto(t)
	c := secretsmanager.NewFromConfig(m.AWSConfig())
	createSecret(t, c, "cloudfront/not-pem", marker)
	createSecret(t, c, "cloudfront/pem-without-id", string(pkcs8(t, newECDSA(t))))
	createSecret(t, c, "cloudfront/json-unknown", `{"key_id":"K1","private_key":"x","passphrase":"`+marker+`"}`)

	tests := []struct {
		name string
		cfg  func(keysource.SecretsManagerConfig) keysource.SecretsManagerConfig
		want []string
		is   any
		kind error // ErrSecretUnreadable, ErrSecretUnusable or nil
	}{
		{"missing secret", func(c keysource.SecretsManagerConfig) keysource.SecretsManagerConfig {
			c.SecretID = "cloudfront/nope"
			return c
		}, []string{"get secret cloudfront/nope", "ResourceNotFoundException"}, new(*smtypes.ResourceNotFoundException), keysource.ErrSecretUnreadable},
		{"not PEM", func(c keysource.SecretsManagerConfig) keysource.SecretsManagerConfig {
			c.SecretID, c.KeyID = "cloudfront/not-pem", "K1"
			return c
		}, []string{"secret cloudfront/not-pem", "no PEM private key"}, nil, keysource.ErrSecretUnusable},
		{"PEM without key id", func(c keysource.SecretsManagerConfig) keysource.SecretsManagerConfig {
			c.SecretID = "cloudfront/pem-without-id"
			return c
		}, []string{"secret cloudfront/pem-without-id", "no key pair id"}, nil, keysource.ErrSecretUnusable},
		{"JSON with unknown field", func(c keysource.SecretsManagerConfig) keysource.SecretsManagerConfig {
			c.SecretID = "cloudfront/json-unknown"
			return c
		}, []string{"secret cloudfront/json-unknown", "fields other than"}, nil, keysource.ErrSecretUnusable},
		{"bad config", func(c keysource.SecretsManagerConfig) keysource.SecretsManagerConfig {
			c.SecretID, c.Refresh, c.Timeout = "", -time.Second, -time.Second
			return c
		}, []string{"secret_id: required", "refresh: -1s is negative", "timeout: -1s is negative"}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := keysource.SecretsManager(t.Context(), tc.cfg(smConfig(m, "")))
			if err == nil {
				s.Close()
				t.Fatalf("SecretsManager = a source; want an error containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("SecretsManager = %q; want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), marker[:16]) {
				t.Errorf("SecretsManager = %q; the error quotes the secret", err)
			}
			if tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Errorf("SecretsManager = %v; want errors.Is %v", err, tc.kind)
			}
			if tc.is != nil {
				if target := tc.is.(**smtypes.ResourceNotFoundException); !errors.As(err, target) {
					t.Errorf("SecretsManager = %v; want errors.As %T", err, *target)
				}
			}
		})
	}
}

// TestAWSChain reaches moto through the standard chain alone: credentials,
// region and endpoint from the environment, no shared files, no instance
// metadata. Both AWS sources must work so.
func TestAWSChain(t *testing.T) {
	m := testenv.Moto(t)
	c := secretsmanager.NewFromConfig(m.AWSConfig())
	ec := newECDSA(t)
	createSecret(t, c, "cloudfront/chain", secretJSON(t, "KCHAIN", ec))

	awsEnv(t, m.Region, m.Endpoint)
	s, err := keysource.SecretsManager(t.Context(), keysource.SecretsManagerConfig{SecretID: "cloudfront/chain"})
	if err != nil {
		t.Fatalf("SecretsManager with the environment's chain = %v", err)
	}
	defer s.Close()
	k, _ := s.Key(t.Context())
	signLink(t, k, map[string]crypto.PublicKey{"KCHAIN": &ec.PublicKey})

	kmsKey := createKMSKey(t, m, "ECC_NIST_P256", "SIGN_VERIFY")
	ks, err := keysource.KMS(t.Context(), keysource.KMSConfig{KeyID: kmsKey.id, PairID: "KCHAINKMS"})
	if err != nil {
		t.Fatalf("KMS with the environment's chain = %v", err)
	}
	k, _ = ks.Key(t.Context())
	signLink(t, k, map[string]crypto.PublicKey{"KCHAINKMS": kmsKey.pub})

	// Without the endpoint the chain reaches for AWS itself; without the
	// region it cannot choose one.
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	if _, err := keysource.SecretsManager(t.Context(), keysource.SecretsManagerConfig{SecretID: "cloudfront/chain"}); err == nil ||
		!strings.Contains(err.Error(), "region: required") {
		t.Errorf("SecretsManager without region or endpoint = %v; want \"region: required\"", err)
	}
}
