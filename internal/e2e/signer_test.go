package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/signet-dev/signet/internal/testenv"
)

// signerConfig is a config whose one distribution trusts the keys of
// trusted (key group main) and signs with signer, a YAML block of one
// field per line at four spaces.
func signerConfig(t *testing.T, dir, addr, signer string, trusted ...testKey) string {
	t.Helper()
	var keys []string
	for _, k := range trusted {
		keys = append(keys, fmt.Sprintf("{id: %s, public_key_file: %s}", k.id, k.pubFile))
	}
	writeFiles(t, filepath.Join(dir, "files"), map[string]string{"a.txt": "signed"})
	cfg := fmt.Sprintf(`data_dir: %s
listeners: [{address: %s}]
key_groups:
  main: [%s]
signing_api: {path_prefix: /_signet}
distributions:
  - name: d
    origin: {type: dir, dir: {path: %s}}
    behaviors: [{path: "*", key_groups: [main]}]
    base_url: http://%s
    signer:
%s`, filepath.Join(dir, "data"), addr, strings.Join(keys, ", "), filepath.Join(dir, "files"), addr, signer)
	f := filepath.Join(dir, "signet.yaml")
	if err := os.WriteFile(f, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// lineNumber is the 1-based number of the first line of file that holds
// s.
func lineNumber(t *testing.T, file, s string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%s holds no %q", file, s)
	return 0
}

// serveRefused runs signet serve --config file, which must exit with
// status 2 (within a bound), and returns its stderr.
func serveRefused(t *testing.T, file string, env ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, signetBin, "serve", "--config", file)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("signet serve --config %s = %v; want exit status 2\nstderr:\n%s", file, err, stderr.String())
	}
	return stderr.String()
}

// TestSignerKeyMismatchAtStart starts signet serve with signing keys that
// are not the keys their edge trusts, from each source: each is refused
// with FILE:LINE: field: problem, and no key material is printed.
func TestSignerKeyMismatchAtStart(t *testing.T) {
	p256, rsa := loadTestKey(t, "p256", "KP256"), loadTestKey(t, "rsa2048", "KRSA")
	m := testenv.Moto(t)
	ctx := t.Context()

	// A KMS key whose public half is trusted by nobody.
	kc := kms.NewFromConfig(m.AWSConfig())
	created, err := kc.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecEccNistP256, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	// Secrets in the JSON form: a trusted id with another key, and an id
	// no key group has.
	sm := secretsmanager.NewFromConfig(m.AWSConfig())
	for name, k := range map[string]testKey{"signet/wrong-key": {id: "KP256", pem: rsa.pem}, "signet/unknown-id": {id: "KNOBODY", pem: p256.pem}} {
		b, _ := json.Marshal(map[string]string{"key_id": k.id, "private_key": string(k.pem)})
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(string(b))}); err != nil {
			t.Fatal(err)
		}
	}
	awsFields := fmt.Sprintf("      region: %s\n      endpoint: %s\n", m.Region, m.Endpoint)
	awsEnv := []string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing"}
	missing := filepath.Join(t.TempDir(), "missing.pem")

	for _, tc := range []struct {
		name   string
		signer string
		env    []string
		field  string // the line of the problem holds it
		want   string // field: problem
	}{
		{"file with another key", "      source: file\n      key_id: KP256\n      private_key_file: " + rsa.pemFile() + "\n", nil,
			"private_key_file:", "distributions[0].signer.private_key_file: " + rsa.pemFile() + ` is not the private half of the public key trusted as "KP256"`},
		{"missing key file", "      source: file\n      key_id: KP256\n      private_key_file: " + missing + "\n", nil,
			"private_key_file:", "distributions[0].signer.private_key_file: open " + missing + ": no such file or directory"},
		{"file under an id no key group has", "      source: file\n      key_id: KNOBODY\n      private_key_file: " + p256.pemFile() + "\n", nil,
			"key_id:", `distributions[0].signer.key_id: "KNOBODY" is in no key group this distribution's behaviors use (main): its edge would refuse every link signed with it`},
		{"variable with another key", "      source: env\n      key_id: KP256\n      env: SIGNET_TEST_KEY\n", []string{"SIGNET_TEST_KEY=" + string(rsa.pem)},
			"env:", `distributions[0].signer.env: the key in SIGNET_TEST_KEY is not the private half of the public key trusted as "KP256"`},
		{"kms key trusted as another", "      source: kms\n      key_id: KP256\n      kms_key_id: " + *created.KeyMetadata.KeyId + "\n" + awsFields, awsEnv,
			"kms_key_id:", `distributions[0].signer.kms_key_id: the KMS key is not the private half of the public key trusted as "KP256"`},
		{"secret with another key", "      source: secrets_manager\n      secret_id: signet/wrong-key\n" + awsFields, awsEnv,
			"secret_id:", `distributions[0].signer.secret_id: the secret's key is not the private half of the public key trusted as "KP256"`},
		{"secret with an id no key group has", "      source: secrets_manager\n      secret_id: signet/unknown-id\n" + awsFields, awsEnv,
			"secret_id:", `distributions[0].signer.secret_id: the secret's key pair id "KNOBODY" is in no key group this distribution's behaviors use (main): its edge would refuse every link signed with it`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := signerConfig(t, t.TempDir(), testenv.FreeAddr(t), tc.signer, p256)
			stderr := serveRefused(t, file, tc.env...)
			t.Logf("stderr:\n%s", stderr)
			want := fmt.Sprintf("%s:%d: %s\n", file, lineNumber(t, file, tc.field), tc.want)
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr =\n%s\nwant it to hold\n%s", stderr, want)
			}
			if strings.Contains(stderr, "PRIVATE KEY") || strings.Contains(stderr, string(rsa.pem[40:80])) {
				t.Errorf("stderr holds key material:\n%s", stderr)
			}
		})
	}
}

// pemFile is the committed PEM file of k's private key.
func (k testKey) pemFile() string { return strings.TrimSuffix(k.pubFile, ".pub.pem") + ".pem" }

// TestSignerRefreshRefused rotates a Secrets Manager signing key to keys
// the edge does not trust: the server keeps signing with the last good key,
// whose links still open, logs an error without key material, and counts
// each refusal in signet_signer_refresh_errors_total.
func TestSignerRefreshRefused(t *testing.T) {
	good, other := loadTestKey(t, "p256", "KGOOD"), loadTestKey(t, "rsa2048", "KOTHER")
	m := testenv.Moto(t)
	sm := secretsmanager.NewFromConfig(m.AWSConfig())
	secretOf := func(id string, k testKey) *string {
		b, _ := json.Marshal(map[string]string{"key_id": id, "private_key": string(k.pem)})
		return aws.String(string(b))
	}
	if _, err := sm.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String("signet/key"), SecretString: secretOf(good.id, good)}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addr, admin := testenv.FreeAddr(t), testenv.FreeAddr(t)
	file := signerConfig(t, dir, addr, fmt.Sprintf("      source: secrets_manager\n      secret_id: signet/key\n      refresh: 1s\n      region: %s\n      endpoint: %s\n", m.Region, m.Endpoint), good)
	cfg, _ := os.ReadFile(file)
	os.WriteFile(file, []byte(strings.Replace(string(cfg), "signing_api:", "admin: {address: "+admin+"}\nsigning_api:", 1)), 0o644)
	env := []string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing"}
	out, err := exec.Command(signetBin, "token", "create", "--config", file, "--name", "app", "--scope", "d:").Output()
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(out))
	p := startSignet(t, addr, admin, env, "serve", "--config", file)

	counter := func(reason string) string {
		t.Helper()
		resp, err := http.Get(p.admin + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		re := regexp.MustCompile(`(?m)^signet_signer_refresh_errors_total\{distribution="d",reason="` + reason + `"\} (\S+)$`)
		if m := re.FindSubmatch(body); m != nil {
			return string(m[1])
		}
		return "absent"
	}
	if got := counter("key_mismatch"); got != "0" {
		t.Errorf(`signet_signer_refresh_errors_total{reason="key_mismatch"} at start = %s; want 0`, got)
	}

	for _, step := range []struct {
		name, id string
		key      testKey
		reason   string
	}{
		{"another key under the trusted id", good.id, other, "key_mismatch"},
		{"an id no key group has", other.id, other, "untrusted_key_id"},
	} {
		if _, err := sm.PutSecretValue(t.Context(), &secretsmanager.PutSecretValueInput{SecretId: aws.String("signet/key"), SecretString: secretOf(step.id, step.key)}); err != nil {
			t.Fatal(err)
		}
		testenv.Wait(t, step.name+": the refresh error counted", func() error {
			if got := counter(step.reason); got == "0" || got == "absent" {
				return fmt.Errorf("signet_signer_refresh_errors_total{reason=%q} = %s; want at least 1\nstderr:\n%s", step.reason, got, p.stderr)
			}
			return nil
		})
		url, id := signViaAPI(t, "http://"+addr+"/_signet", token, `{"distribution":"d","key":"a.txt","expires_in":600}`)
		if id != good.id {
			t.Errorf("%s: the API signs with %q; want the last good key %s", step.name, id, good.id)
		}
		resp, body := get(t, url, "")
		want200(t, step.name+": a link signed after the refusal", resp, body, "signed")
	}

	// The process logs the refusal before it counts it, but its stderr
	// reaches the test through a pipe: wait for the line.
	logs := p.stderr.WaitFor(t, `"level":"ERROR","msg":"secret refresh failed; keeping the last good key"`)
	if !strings.Contains(logs, `"distribution":"d"`) {
		t.Errorf("stderr holds no error record for the refused key, with its distribution:\n%s", logs)
	}
	for _, secret := range []string{"PRIVATE KEY", string(other.pem[40:80]), string(good.pem[40:80])} {
		if strings.Contains(logs, secret) {
			t.Errorf("stderr holds key material %q:\n%s", secret, logs)
		}
	}
}
