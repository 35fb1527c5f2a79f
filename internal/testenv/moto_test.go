package testenv_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/signet-dev/signet/internal/testenv"
)

// TestMotoKMSDigest checks the server's KMS against the AWS contract that
// moto alone does not keep: with MessageType DIGEST the message is the
// digest and is signed as is; with RAW it is hashed first. Signatures are
// checked with Go's crypto against GetPublicKey, never against moto itself.
func TestMotoKMSDigest(t *testing.T) {
	m := testenv.Moto(t)
	if u, err := url.Parse(m.Endpoint); err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("Endpoint = %q; want http://127.0.0.1:PORT", m.Endpoint)
	}
	t.Logf("moto %s at %s", m.Version, m.Endpoint)
	c := kms.NewFromConfig(m.AWSConfig())
	msg := []byte(`{"Statement":[{"Resource":"https://d.example/a","Condition":{"DateLessThan":{"AWS:EpochTime":1767225600}}}]}`)
	digest := sha256.Sum256(msg)

	for _, tc := range []struct {
		spec kmstypes.KeySpec
		alg  kmstypes.SigningAlgorithmSpec
	}{
		{kmstypes.KeySpecEccNistP256, kmstypes.SigningAlgorithmSpecEcdsaSha256},
		{kmstypes.KeySpecRsa2048, kmstypes.SigningAlgorithmSpecRsassaPkcs1V15Sha256},
	} {
		t.Run(string(tc.spec), func(t *testing.T) {
			ctx := t.Context()
			key, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: tc.spec, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
			if err != nil {
				t.Fatalf("CreateKey: %v", err)
			}
			id := key.KeyMetadata.KeyId
			pk, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: id})
			if err != nil {
				t.Fatalf("GetPublicKey: %v", err)
			}
			pub, err := x509.ParsePKIXPublicKey(pk.PublicKey)
			if err != nil {
				t.Fatalf("GetPublicKey returned an unparsable key: %v", err)
			}
			verify := func(sig []byte) bool {
				switch pub := pub.(type) {
				case *ecdsa.PublicKey:
					return ecdsa.VerifyASN1(pub, digest[:], sig)
				case *rsa.PublicKey:
					return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
				}
				t.Fatalf("GetPublicKey returned a %T", pub)
				return false
			}
			for _, mt := range []struct {
				typ kmstypes.MessageType
				msg []byte
			}{
				{kmstypes.MessageTypeDigest, digest[:]},
				{kmstypes.MessageTypeRaw, msg},
			} {
				out, err := c.Sign(ctx, &kms.SignInput{KeyId: id, Message: mt.msg, MessageType: mt.typ, SigningAlgorithm: tc.alg})
				if err != nil {
					t.Fatalf("Sign(%s): %v", mt.typ, err)
				}
				if !verify(out.Signature) {
					t.Errorf("Sign(%s) returned a signature that does not verify over the message's SHA-256", mt.typ)
				}
				v, err := c.Verify(ctx, &kms.VerifyInput{KeyId: id, Message: mt.msg, MessageType: mt.typ, Signature: out.Signature, SigningAlgorithm: tc.alg})
				if err != nil || !v.SignatureValid {
					t.Errorf("Verify(%s) of its own signature = %v, %v; want true, nil", mt.typ, v != nil && v.SignatureValid, err)
				}
				bad := append([]byte(nil), out.Signature...)
				bad[len(bad)/2] ^= 1
				v, err = c.Verify(ctx, &kms.VerifyInput{KeyId: id, Message: mt.msg, MessageType: mt.typ, Signature: bad, SigningAlgorithm: tc.alg})
				if err == nil && v.SignatureValid {
					t.Errorf("Verify(%s) of a flipped signature = true; want false or an error", mt.typ)
				}
			}

			_, err = c.Sign(ctx, &kms.SignInput{KeyId: id, Message: digest[:20], MessageType: kmstypes.MessageTypeDigest, SigningAlgorithm: tc.alg})
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != "ValidationException" {
				t.Errorf("Sign(DIGEST) of a 20-byte digest = %v; want ValidationException", err)
			}
		})
	}
}

// TestMotoAWSConfig checks that AWSConfig carries the fake credentials and
// the endpoint, so that clients never fall back to the environment.
func TestMotoAWSConfig(t *testing.T) {
	m := testenv.Moto(t)
	cfg := m.AWSConfig()
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil || creds.AccessKeyID != "testing" {
		t.Errorf("AWSConfig().Credentials = %q, %v; want the fake key id \"testing\"", creds.AccessKeyID, err)
	}
	if got := aws.ToString(cfg.BaseEndpoint); got != m.Endpoint {
		t.Errorf("AWSConfig().BaseEndpoint = %q; want %q", got, m.Endpoint)
	}
	if cfg.Region != "us-east-1" {
		t.Errorf("AWSConfig().Region = %q; want us-east-1", cfg.Region)
	}
}
