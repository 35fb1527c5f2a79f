package lambdafn_test

import (
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/signet-dev/signet/internal/keysource"
	"github.com/signet-dev/signet/internal/lambdafn"
	"github.com/signet-dev/signet/internal/testenv"
)

// awsEnv gives the process the environment a Lambda function has (a
// region and credentials in AWS_* variables, no shared files) with
// endpointVar pointing at m: the SDK must find moto by itself, as the
// function finds AWS.
func awsEnv(t *testing.T, m *testenv.MotoServer, endpointVar string) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_REGION":                  m.Region,
		"AWS_ACCESS_KEY_ID":           "testing",
		"AWS_SECRET_ACCESS_KEY":       "testing",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{
		"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
	} {
		t.Setenv(k, "") // restored when t ends
		os.Unsetenv(k)
	}
	t.Setenv(endpointVar, m.Endpoint)
}

// fromEnv builds a Handler as main does, from env, with the clock c.
func fromEnv(t *testing.T, env map[string]string, c *testenv.Clock) *lambdafn.Handler {
	t.Helper()
	cfg, err := lambdafn.ConfigFromEnv(t.Context(), func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatalf("ConfigFromEnv: %v", err)
	}
	t.Cleanup(func() { cfg.Key.Close() })
	cfg.Now = c.Now
	h, err := lambdafn.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

// TestSecretsManager runs the suite with a PEM key and the token records
// in Secrets Manager secrets, found through AWS_ENDPOINT_URL_SECRETS_MANAGER,
// and then rotates both secrets in a warm container.
func TestSecretsManager(t *testing.T) {
	m := testenv.Moto(t)
	awsEnv(t, m, "AWS_ENDPOINT_URL_SECRETS_MANAGER")
	sm := secretsmanager.NewFromConfig(m.AWSConfig())
	put := func(name, value string, create bool) {
		t.Helper()
		var err error
		if create {
			_, err = sm.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
		} else {
			_, err = sm.PutSecretValue(t.Context(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value)})
		}
		if err != nil {
			t.Fatalf("secret %s: %v", name, err)
		}
	}
	key, tt := newECDSA(t), newTokens(t)
	put("signet/key", pemOf(t, key), true)
	put("signet/tokens", tt.all, true)
	c := testenv.NewClock(testNow)
	h := fromEnv(t, map[string]string{
		"SIGNET_BASE_URL":         baseURL,
		"SIGNET_SECRET_ID":        "signet/key",
		"SIGNET_KEY_PAIR_ID":      "K2SECRETPEM",
		"SIGNET_TOKENS_SECRET_ID": "signet/tokens",
	}, c)
	runSuite(t, fixture{h: h, keyID: "K2SECRETPEM", pub: key.Public(), tokens: tt, clock: c})

	t.Run("rotation in a warm container", func(t *testing.T) {
		newKey := newECDSA(t)
		b, err := json.Marshal(map[string]string{"key_id": "K2SECRETNEW", "private_key": pemOf(t, newKey)})
		if err != nil {
			t.Fatal(err)
		}
		put("signet/key", string(b), false)
		put("signet/tokens", tt.withoutA, false)

		if got := legacyLink(t, h).KeyID; got != "K2SECRETPEM" {
			t.Errorf("before the refresh interval, key_id = %s; want K2SECRETPEM", got)
		}
		c.Add(keysource.DefaultRefresh)
		u := legacyLink(t, h)
		verify(t, u.URL, "K2SECRETNEW", newKey.Public(), c.Now())
		if u.KeyID != "K2SECRETNEW" {
			t.Errorf("after rotation, key_id = %s; want K2SECRETNEW", u.KeyID)
		}
		for _, tc := range []struct {
			name   string
			secret string
			want   int
		}{{"revoked", tt.a, 401}, {"kept", tt.b, 200}} {
			r := invokeHTTP(t, h, functionURL("/v1/sign/url", "Bearer "+tc.secret, signBody("videos/a.mp4")))
			if r.StatusCode != tc.want {
				t.Errorf("%s token after the tokens secret changed: status %d; want %d", tc.name, r.StatusCode, tc.want)
			}
		}
	})
}

// TestKMS runs the suite with an ECC_NIST_P256 key in KMS, named by alias
// and found through AWS_ENDPOINT_URL_KMS, with the token records in
// SIGNET_TOKENS; then builds the function again through AWS_ENDPOINT_URL.
func TestKMS(t *testing.T) {
	m := testenv.Moto(t)
	awsEnv(t, m, "AWS_ENDPOINT_URL_KMS")
	c := kms.NewFromConfig(m.AWSConfig())
	created, err := c.CreateKey(t.Context(), &kms.CreateKeyInput{
		KeySpec: kmstypes.KeySpecEccNistP256, KeyUsage: kmstypes.KeyUsageTypeSignVerify,
	})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	if _, err := c.CreateAlias(t.Context(), &kms.CreateAliasInput{
		AliasName: aws.String("alias/signet-lambda"), TargetKeyId: created.KeyMetadata.KeyId,
	}); err != nil {
		t.Fatalf("CreateAlias: %v", err)
	}
	pk, err := c.GetPublicKey(t.Context(), &kms.GetPublicKeyInput{KeyId: created.KeyMetadata.KeyId})
	if err != nil {
		t.Fatalf("GetPublicKey: %v", err)
	}
	pub, err := x509.ParsePKIXPublicKey(pk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	tt := newTokens(t)
	env := map[string]string{
		"SIGNET_BASE_URL":     baseURL,
		"SIGNET_DISTRIBUTION": "default",
		"SIGNET_KMS_KEY_ID":   "alias/signet-lambda",
		"SIGNET_KEY_PAIR_ID":  "K2KMSP256",
		"SIGNET_MAX_LIFETIME": "7d",
		"SIGNET_TOKENS":       tt.all,
	}
	clk := testenv.NewClock(testNow)
	runSuite(t, fixture{h: fromEnv(t, env, clk), keyID: "K2KMSP256", pub: pub, tokens: tt, clock: clk})

	t.Run("AWS_ENDPOINT_URL", func(t *testing.T) {
		awsEnv(t, m, "AWS_ENDPOINT_URL")
		u := legacyLink(t, fromEnv(t, env, testenv.NewClock(testNow)))
		verify(t, u.URL, "K2KMSP256", pub, testNow)
	})
}
