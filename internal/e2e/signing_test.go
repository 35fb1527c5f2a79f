package e2e_test

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/signet-dev/signet/internal/testenv"
)

// TestSigningAPIWithAWSKeys runs signet serve with the signing API and two
// distributions whose keys live in AWS services (a real moto server): one
// in KMS, which never hands the private key out, one in Secrets Manager.
// Links the API signs are then opened at the same edge, whose key groups
// trust the two public keys.
func TestSigningAPIWithAWSKeys(t *testing.T) {
	m := testenv.Moto(t)
	ctx := t.Context()
	cfg := m.AWSConfig()

	// A KMS key: its public half goes into a key group.
	kc := kms.NewFromConfig(cfg)
	created, err := kc.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecEccNistP256, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := kc.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: created.KeyMetadata.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kmsPub := filepath.Join(dir, "kms.pub.pem")
	os.WriteFile(kmsPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub.PublicKey}), 0o644)

	// A Secrets Manager secret holding a test key in the JSON form.
	rsa := loadTestKey(t, "rsa2048", "")
	secret, _ := json.Marshal(map[string]string{"key_id": rsa.id, "private_key": string(rsa.pem)})
	sm := secretsmanager.NewFromConfig(cfg)
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("signet/cloudfront"), SecretString: aws.String(string(secret))}); err != nil {
		t.Fatal(err)
	}

	writeFiles(t, filepath.Join(dir, "files"), map[string]string{"reports/q3.pdf": "from KMS-signed link", "videos/a.mp4": "from a Secrets Manager key"})
	addr, apiAddr := testenv.FreeAddr(t), testenv.FreeAddr(t)
	conf := fmt.Sprintf(`
data_dir: %s
listeners: [{address: %s}]
key_groups:
  kms: [{id: KKMSEXAMPLEKEY1, public_key_file: %s}]
  sm: [{id: %s, public_key_file: %s}]
signing_api: {address: %s}
distributions:
  - name: reports
    hosts: [%s]
    origin: {type: dir, dir: {path: %s}}
    behaviors: [{path: "*", key_groups: [kms]}]
    base_url: http://%s
    signer: {source: kms, key_id: KKMSEXAMPLEKEY1, kms_key_id: %s, region: %s, endpoint: %s}
  - name: videos
    hosts: [localhost:%s]
    origin: {type: dir, dir: {path: %s}}
    behaviors: [{path: "*", key_groups: [sm]}]
    base_url: http://localhost:%s
    signer: {source: secrets_manager, secret_id: signet/cloudfront, region: %s, endpoint: %s, refresh: 1m}
`, filepath.Join(dir, "data"), addr, kmsPub, rsa.id, rsa.pubFile, apiAddr,
		addr, filepath.Join(dir, "files"), addr, *created.KeyMetadata.KeyId, m.Region, m.Endpoint,
		port(addr), filepath.Join(dir, "files"), port(addr), m.Region, m.Endpoint)
	cfgFile := filepath.Join(dir, "signet.yaml")
	os.WriteFile(cfgFile, []byte(conf), 0o644)
	env := []string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=" + m.Region}

	out, err := exec.Command(signetBin, "token", "create", "--config", cfgFile, "--name", "app",
		"--scope", "reports:reports/", "--scope", "videos:videos/").Output()
	if err != nil {
		t.Fatalf("signet token create: %v", err)
	}
	token := strings.TrimSpace(string(out))
	startSignet(t, addr, "", env, "serve", "--config", cfgFile)

	api := "http://" + apiAddr
	kURL, kID := signViaAPI(t, api, token, `{"distribution":"reports","key":"reports/q3.pdf","expires_in":300}`)
	if kID != "KKMSEXAMPLEKEY1" || !strings.Contains(kURL, "Hash-Algorithm=SHA256") {
		t.Errorf("KMS-signed link = %s, key %s; want key KKMSEXAMPLEKEY1 and SHA256", kURL, kID)
	}
	resp, body := get(t, kURL, "")
	want200(t, "link signed by KMS", resp, body, "from KMS-signed link")

	sURL, sID := signViaAPI(t, api, token, `{"distribution":"videos","key":"videos/a.mp4","expires_in":300}`)
	if sID != rsa.id {
		t.Errorf("Secrets Manager link key id = %s; want %s (from the JSON secret)", sID, rsa.id)
	}
	resp, body = get(t, sURL, "")
	want200(t, "link signed with the Secrets Manager key", resp, body, "from a Secrets Manager key")

	// The KMS link does not open the other distribution: trust is per behavior.
	other := strings.Replace(kURL, "http://"+addr+"/reports/q3.pdf", "http://localhost:"+port(addr)+"/videos/a.mp4", 1)
	resp, body = get(t, other, "")
	if resp.StatusCode != 403 {
		t.Errorf("KMS link on the other distribution = %d %s; want 403", resp.StatusCode, body)
	}
}

func port(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }
