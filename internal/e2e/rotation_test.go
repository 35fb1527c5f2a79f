package e2e_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/testenv"
)

// TestKeyRotation walks docs/key-rotation.md's procedure against a real
// signet serve whose signing key lives in a Secrets Manager secret (moto):
// trust the new key next to the old, switch the secret, watch both keys'
// use with `signet keys status`, then retire the old key.
func TestKeyRotation(t *testing.T) {
	m := testenv.Moto(t)
	sm := secretsmanager.NewFromConfig(m.AWSConfig())
	oldKey, newKey := loadTestKey(t, "rsa2048", ""), loadTestKey(t, "p256", "")
	secretOf := func(k testKey) *string {
		b, _ := json.Marshal(map[string]string{"key_id": k.id, "private_key": string(k.pem)})
		return aws.String(string(b))
	}
	if _, err := sm.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String("signet/key"), SecretString: secretOf(oldKey)}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFiles(t, filepath.Join(dir, "files"), map[string]string{"a.txt": "rotating"})
	addr, admin := testenv.FreeAddr(t), testenv.FreeAddr(t)
	writeConfig := func(trusted ...testKey) string {
		var keys []string
		for _, k := range trusted {
			keys = append(keys, fmt.Sprintf("{id: %s, public_key_file: %s}", k.id, k.pubFile))
		}
		cfg := fmt.Sprintf(`
data_dir: %s
listeners: [{address: %s}]
admin: {address: %s}
key_groups:
  main: [%s]
signing_api: {path_prefix: /_signet}
distributions:
  - name: d
    origin: {type: dir, dir: {path: %s}}
    behaviors: [{path: "*", key_groups: [main], max_link_lifetime: 1h}]
    base_url: http://%s
    signer: {source: secrets_manager, secret_id: signet/key, region: %s, endpoint: %s, refresh: 1s, max_lifetime: 1h}
`, filepath.Join(dir, "data"), addr, admin, strings.Join(keys, ", "), filepath.Join(dir, "files"), addr, m.Region, m.Endpoint)
		f := filepath.Join(dir, "signet.yaml")
		os.WriteFile(f, []byte(cfg), 0o644)
		return f
	}
	env := []string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing"}

	// 1. Trust the new key next to the old one; the old one still signs.
	cfgFile := writeConfig(oldKey, newKey)
	out, err := exec.Command(signetBin, "token", "create", "--config", cfgFile, "--name", "app", "--scope", "d:").Output()
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(out))
	p := startSignet(t, addr, admin, env, "serve", "--config", cfgFile)
	sign := func() (url, keyID string) {
		return signViaAPI(t, "http://"+addr+"/_signet", token, `{"distribution":"d","key":"a.txt","expires_in":1800}`)
	}
	oldLink, id := sign()
	if id != oldKey.id {
		t.Fatalf("signed with %s; want the old key %s", id, oldKey.id)
	}

	// 2. Switch signing: a new secret version with the new key and id; the
	// server picks it up without a restart.
	if _, err := sm.PutSecretValue(t.Context(), &secretsmanager.PutSecretValueInput{SecretId: aws.String("signet/key"), SecretString: secretOf(newKey)}); err != nil {
		t.Fatal(err)
	}
	var newLink string
	testenv.Wait(t, "signing with the new key "+newKey.id, func() error {
		if newLink, id = sign(); id != newKey.id {
			return fmt.Errorf("still signing with %s after the secret changed", id)
		}
		return nil
	})
	for name, link := range map[string]string{"old": oldLink, "new": newLink} {
		resp, body := get(t, link, "")
		want200(t, name+" link while both keys are trusted", resp, body, "rotating")
	}

	// 3. Watch the old key's traffic.
	status, err := exec.Command(signetBin, "keys", "status", "--admin", "http://"+admin).Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("signet keys status:\n%s", status)
	for _, k := range []testKey{oldKey, newKey} {
		if !strings.Contains(string(status), k.id) || strings.Contains(lineOf(string(status), k.id), "never") {
			t.Errorf("keys status does not show %s as used:\n%s", k.id, status)
		}
	}

	// 4. Retire the old key: its links are refused, the new ones work.
	p.stop(t)
	cfgFile = writeConfig(newKey)
	startSignet(t, addr, admin, env, "serve", "--config", cfgFile)
	resp, body := get(t, oldLink, "")
	wantXML(t, "old link after the old key is retired", resp, body, cfsign.InvalidKey)
	resp, body = get(t, newLink, "")
	want200(t, "new link after the old key is retired", resp, body, "rotating")
}

func lineOf(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
