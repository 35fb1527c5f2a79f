package keysource_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/keysource"
)

// awsEnv makes the standard AWS chain read the environment alone: test
// credentials, region and endpoint ("" for none), no shared files, no
// instance metadata.
func awsEnv(t *testing.T, region, endpoint string) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "testing",
		"AWS_SECRET_ACCESS_KEY":       "testing",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  region,
		"AWS_DEFAULT_REGION":          "",
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
}

// TestAWSConfigErrors: the AWS sources check the settings they share alike,
// each after its own, and report every problem at once, before any call to
// AWS.
func TestAWSConfigErrors(t *testing.T) {
	awsEnv(t, "", "")
	kms := func(cfg keysource.KMSConfig) func() error {
		return func() error {
			_, err := keysource.KMS(t.Context(), cfg)
			return err
		}
	}
	secret := func(cfg keysource.SecretsManagerConfig) func() error {
		return func() error {
			s, err := keysource.SecretsManager(t.Context(), cfg)
			if err == nil {
				s.Close()
			}
			return err
		}
	}
	for _, tc := range []struct {
		name string
		open func() error
		want string
	}{
		{"kms", kms(keysource.KMSConfig{PairID: "K1", Timeout: -time.Second}),
			"keysource: kms: key_id: required\ntimeout: -1s is negative"},
		{"kms timeout", kms(keysource.KMSConfig{KeyID: "k", PairID: "K1", Timeout: -time.Second}),
			"keysource: kms: timeout: -1s is negative"},
		{"kms without region", kms(keysource.KMSConfig{KeyID: "k", PairID: "K1"}),
			"keysource: kms: region: required (set it, or AWS_REGION)"},
		{"secrets manager", secret(keysource.SecretsManagerConfig{Refresh: -time.Second, Timeout: -time.Second}),
			"keysource: secrets manager: secret_id: required\nrefresh: -1s is negative\ntimeout: -1s is negative"},
		{"secrets manager timeout", secret(keysource.SecretsManagerConfig{SecretID: "s", Timeout: -time.Second}),
			"keysource: secrets manager: timeout: -1s is negative"},
		{"secrets manager without region", secret(keysource.SecretsManagerConfig{SecretID: "s"}),
			"keysource: secrets manager: region: required (set it, or AWS_REGION)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.open(); err == nil || err.Error() != tc.want {
				t.Errorf("error = %v; want %q", err, tc.want)
			}
		})
	}
}
