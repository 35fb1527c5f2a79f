package e2e_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/testenv"
)

// TestLambdaLocal runs docs/lambda.md's "Run it locally" lines as they are
// written, in a copy of the source tree: the real bootstrap built as for
// Lambda, under the AWS Lambda Runtime Interface Emulator, invoked with
// curl. The key is in a moto server's Secrets Manager, which the shell's
// AWS_ENDPOINT_URL points at, as the docs suggest for running without AWS.
// Only the two ports change. The docs' install line must name the
// emulator's version the tests use.
func TestLambdaLocal(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "date", "go"} {
		_, err := exec.LookPath(tool)
		testenv.Need(t, tool, err == nil)
	}
	rie := testenv.RIEBinary()
	testenv.Need(t, "aws-lambda-rie (scripts/install-rie.sh)", rie != "")

	const doc, heading = "docs/lambda.md", "Run it locally"
	if install := shBlock(t, doc, heading, 0); !strings.Contains(install, "aws-lambda-rie@"+testenv.RIEVersion+"\n") {
		t.Errorf("%s's install line is not aws-lambda-rie@%s, the version the tests use:\n%s", doc, testenv.RIEVersion, install)
	}
	script := shBlock(t, doc, heading, 1)
	for _, want := range []string{"go build", "./cmd/signet-lambda", "aws-lambda-rie ", "127.0.0.1:9000", "127.0.0.1:9001", "curl ", "kill %1"} {
		if !strings.Contains(script, want) {
			t.Fatalf("the local run no longer has %q; update this test with %s\n%s", want, doc, script)
		}
	}
	setting := func(name string) string {
		m := regexp.MustCompile(`\b` + name + `=(\S+)`).FindStringSubmatch(script)
		if m == nil {
			t.Fatalf("the local run sets no %s\n%s", name, script)
		}
		return m[1]
	}
	keyID, secretID, base := setting("SIGNET_KEY_PAIR_ID"), setting("SIGNET_SECRET_ID"), setting("SIGNET_BASE_URL")

	m := testenv.Moto(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemKey, err := cfsign.MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(m.AWSConfig())
	if _, err := sm.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{
		Name: aws.String(secretID), SecretString: aws.String(string(pemKey)),
	}); err != nil {
		t.Fatalf("CreateSecret(%s): %v", secretID, err)
	}

	script = strings.ReplaceAll(script, "127.0.0.1:9000", testenv.FreeAddr(t))
	script = strings.ReplaceAll(script, "127.0.0.1:9001", testenv.FreeAddr(t))
	dir := t.TempDir()
	copySource(t, dir)
	stdout, stderr, err := runScript(t, dir, script, lambdaShellEnv(t, rie, m))
	if err != nil {
		t.Fatalf("the local run failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}

	// One line per curl: the legacy link, the function error, the HTTP
	// response event. The emulator's and the function's logs are in rie.log.
	rieLog, err := os.ReadFile(filepath.Join(dir, "rie.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("the local run printed %d lines; want 3 (one per invocation)\nstdout:\n%s\nstderr:\n%s\nrie.log:\n%s", len(lines), stdout, stderr, rieLog)
	}
	now := time.Now()
	check := func(what, body string) {
		t.Helper()
		var got struct {
			URL       string `json:"url"`
			ExpiresAt string `json:"expires_at"`
			KeyID     string `json:"key_id"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil || got.URL == "" {
			t.Errorf("%s: %s; want {\"url\": ...} (%v)", what, body, err)
			return
		}
		if got.KeyID != keyID {
			t.Errorf("%s: key_id = %s; want %s", what, got.KeyID, keyID)
		}
		exp := verifyWith(t, got.URL, base, keyID, key.Public(), now)
		if want := time.Unix(exp, 0).UTC().Format(time.RFC3339); got.ExpiresAt != want {
			t.Errorf("%s: expires_at = %s; the link's Expires is %s", what, got.ExpiresAt, want)
		}
	}

	check("legacy event", lines[0])
	var fnErr struct{ ErrorType, ErrorMessage string }
	if err := json.Unmarshal([]byte(lines[1]), &fnErr); err != nil || fnErr.ErrorType != "expiry_after_2038" ||
		!strings.Contains(fnErr.ErrorMessage, "after "+cfsign.MaxExpiry) {
		t.Errorf("legacy event for 2100: %s; want an expiry_after_2038 function error", lines[1])
	}
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if err := json.Unmarshal([]byte(lines[2]), &resp); err != nil || resp.StatusCode != 200 {
		t.Fatalf("HTTP event: %s; want a response event with statusCode 200", lines[2])
	}
	check("HTTP event", strings.TrimSpace(resp.Body))
	for _, want := range []string{"INIT START", `"msg":"legacy event refused","code":"expiry_after_2038"`, "REPORT RequestId"} {
		if !strings.Contains(string(rieLog), want) {
			t.Errorf("rie.log lacks %s: did aws-lambda-rie run the function?\n%s", want, rieLog)
		}
	}
}

// lambdaShellEnv is the environment of the local run's shell: the test's,
// without any AWS_ or SIGNET_ setting of the developer's, with rie's
// directory first on PATH (where `go install` would have put it) and the
// AWS SDK pointed at moto with its fake credentials and no shared files.
func lambdaShellEnv(t *testing.T, rie string, m *testenv.MotoServer) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "AWS_"), strings.HasPrefix(name, "SIGNET_"):
		case name == "PATH":
			env = append(env, "PATH="+filepath.Dir(rie)+string(os.PathListSeparator)+value)
		default:
			env = append(env, kv)
		}
	}
	none := filepath.Join(t.TempDir(), "none")
	return append(env,
		"AWS_ENDPOINT_URL="+m.Endpoint,
		"AWS_REGION="+m.Region,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_CONFIG_FILE="+none,
		"AWS_SHARED_CREDENTIALS_FILE="+none,
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

// verifyWith checks link, which must be under base, with a verifier that
// trusts only pub as keyID at now, and returns its expiry in Unix seconds.
func verifyWith(t *testing.T, link, base, keyID string, pub crypto.PublicKey, now time.Time) int64 {
	t.Helper()
	v, err := cfsign.NewVerifier(map[string]crypto.PublicKey{keyID: pub}, cfsign.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	scheme, host, _ := strings.Cut(base, "://")
	target, ok := strings.CutPrefix(link, base)
	if !ok {
		t.Fatalf("link %q is not under %s", link, base)
	}
	res, err := v.Verify(&cfsign.Request{Scheme: scheme, Host: host, Target: target})
	if err != nil {
		t.Fatalf("Verify(%s) = %v; want nil", link, err)
	}
	return res.Policy.Expires
}
