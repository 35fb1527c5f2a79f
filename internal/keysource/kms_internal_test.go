package keysource

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// TestKMSSignerWithoutKeySpec: an answer without KeySpec (as some emulators
// send, with only the deprecated CustomerMasterKeySpec) is judged by its
// public key.
func TestKMSSignerWithoutKeySpec(t *testing.T) {
	der := func(pub any) []byte {
		b, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	r2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, tc := range []struct {
		name    string
		pub     []byte
		wantAlg kmstypes.SigningAlgorithmSpec
		wantErr string
	}{
		{"P-256", der(&p256.PublicKey), kmstypes.SigningAlgorithmSpecEcdsaSha256, ""},
		{"RSA 2048", der(&r2048.PublicKey), kmstypes.SigningAlgorithmSpecRsassaPkcs1V15Sha256, ""},
		{"P-384", der(&p384.PublicKey), "", "public key (ECDSA P-384) cannot sign"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := &kms.GetPublicKeyOutput{KeyId: aws.String("k1"), KeyUsage: kmstypes.KeyUsageTypeSignVerify, PublicKey: tc.pub}
			s, err := newKMSSigner(nil, 0, out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("newKMSSigner = %v; want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("newKMSSigner: %v", err)
			}
			if s.alg != tc.wantAlg {
				t.Errorf("newKMSSigner chose %s; want %s", s.alg, tc.wantAlg)
			}
		})
	}
}
