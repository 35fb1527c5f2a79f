package keysource

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/signet-dev/signet/internal/cfsign"
)

// KMSConfig names an AWS KMS asymmetric key that signs CloudFront links:
// ECC_NIST_P256 (signing with ECDSA_SHA_256) or RSA_2048 (signing with
// RSASSA_PKCS1_V1_5_SHA_256), with key usage SIGN_VERIFY. Links are always
// signed with Hash-Algorithm=SHA256: KMS signs SHA-256 digests, and
// CloudFront's SHA-1 default is out of reach. The private key never leaves
// KMS; upload the public key (`aws kms get-public-key`, as PEM) to
// CloudFront, which assigns PairID.
type KMSConfig struct {
	// KeyID is the KMS key: id, ARN, alias name ("alias/...") or alias
	// ARN. An alias is resolved once, by KMS, when the source is made.
	KeyID string
	// PairID is the CloudFront key pair id of the public key (K...).
	PairID string
	// Region is the key's region; "" takes it from the standard AWS
	// configuration, and failing that is "us-east-1" when an endpoint
	// override is set.
	Region string
	// Endpoint overrides KMS's URL, such as a moto server's
	// "http://127.0.0.1:5000"; "" means AWS (or AWS_ENDPOINT_URL...).
	Endpoint string
	// Credentials, when set, replace the standard AWS credential chain.
	Credentials aws.CredentialsProvider
	// Timeout bounds each call to KMS, one per signature; 0 means
	// DefaultAWSTimeout.
	Timeout time.Duration
}

// KMS checks cfg, fetches the key's public key and properties once (within
// ctx), and returns a Source whose Key signs through KMS with SHA256. A key
// of another spec or usage is refused with a clear error.
func KMS(ctx context.Context, cfg KMSConfig) (*Static, error) {
	var errs []error
	if cfg.KeyID == "" {
		errs = append(errs, errors.New("key_id: required"))
	}
	if err := cfsign.CheckKeyID(cfg.PairID); err != nil {
		errs = append(errs, fmt.Errorf("pair_id: %w", err))
	}
	awsCfg, timeout, err := loadAWS(ctx, "kms", awsSettings{cfg.Region, cfg.Endpoint, cfg.Credentials, cfg.Timeout}, errs...)
	if err != nil {
		return nil, err
	}
	client := kms.NewFromConfig(awsCfg)
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := client.GetPublicKey(pctx, &kms.GetPublicKeyInput{KeyId: aws.String(cfg.KeyID)})
	if err != nil {
		return nil, fmt.Errorf("keysource: kms key %s: get public key: %w", cfg.KeyID, err)
	}
	signer, err := newKMSSigner(client, timeout, out)
	if err != nil {
		return nil, fmt.Errorf("keysource: kms key %s: %w", cfg.KeyID, err)
	}
	return NewStatic(cfsign.Key{ID: cfg.PairID, Signer: signer, Hash: cfsign.SHA256})
}

// kmsSigner is a crypto.Signer whose private key stays in KMS. It is safe
// for concurrent use.
type kmsSigner struct {
	client *kms.Client
	// key is the key as GetPublicKey named it, its ARN (moto: its id),
	// never an alias, which could come to name another key than Public's.
	key     string
	alg     kmstypes.SigningAlgorithmSpec
	pub     crypto.PublicKey
	timeout time.Duration
}

// newKMSSigner checks a GetPublicKey answer and makes the signer for it.
func newKMSSigner(client *kms.Client, timeout time.Duration, out *kms.GetPublicKeyOutput) (*kmsSigner, error) {
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	spec := out.KeySpec
	if spec == "" {
		// AWS always sends KeySpec. Some emulators (moto 5) send only its
		// deprecated twin, CustomerMasterKeySpec, which we do not read:
		// the public key itself says which spec it is.
		if spec = specOf(pub); spec == "" {
			return nil, fmt.Errorf("GetPublicKey named no key spec, and the public key (%s) cannot sign CloudFront links; create the key with key spec ECC_NIST_P256 or RSA_2048", describeKey(pub))
		}
	}
	var alg kmstypes.SigningAlgorithmSpec
	switch spec {
	case kmstypes.KeySpecEccNistP256:
		alg = kmstypes.SigningAlgorithmSpecEcdsaSha256
	case kmstypes.KeySpecRsa2048:
		alg = kmstypes.SigningAlgorithmSpecRsassaPkcs1V15Sha256
	default:
		return nil, fmt.Errorf("key spec %q cannot sign CloudFront links; create the key with key spec ECC_NIST_P256 or RSA_2048", spec)
	}
	if out.KeyUsage != kmstypes.KeyUsageTypeSignVerify {
		return nil, fmt.Errorf("key usage %q cannot sign; create the key with key usage SIGN_VERIFY", out.KeyUsage)
	}
	if len(out.SigningAlgorithms) > 0 && !slices.Contains(out.SigningAlgorithms, alg) {
		return nil, fmt.Errorf("key does not offer signing algorithm %s", alg)
	}
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		if spec != kmstypes.KeySpecEccNistP256 || p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("public key does not match key spec %s", spec)
		}
	case *rsa.PublicKey:
		if spec != kmstypes.KeySpecRsa2048 || p.N.BitLen() != 2048 {
			return nil, fmt.Errorf("public key does not match key spec %s", spec)
		}
	default:
		return nil, fmt.Errorf("public key of type %T", pub)
	}
	key := aws.ToString(out.KeyId)
	if key == "" {
		return nil, errors.New("GetPublicKey named no key")
	}
	return &kmsSigner{client: client, key: key, alg: alg, pub: pub, timeout: timeout}, nil
}

// specOf is the KMS key spec of a public key, or "" for none that can sign
// CloudFront links.
func specOf(pub crypto.PublicKey) kmstypes.KeySpec {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		if p.Curve == elliptic.P256() {
			return kmstypes.KeySpecEccNistP256
		}
	case *rsa.PublicKey:
		if p.N.BitLen() == 2048 {
			return kmstypes.KeySpecRsa2048
		}
	}
	return ""
}

// describeKey names a public key's type and size for an error message.
func describeKey(pub crypto.PublicKey) string {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + p.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", p.N.BitLen())
	}
	return fmt.Sprintf("%T", pub)
}

// Public returns the public key fetched when the signer was made.
func (k *kmsSigner) Public() crypto.PublicKey { return k.pub }

// Sign asks KMS to sign a SHA-256 digest (MessageType DIGEST) and checks
// the answer against the public key before returning it, so that a wrong
// signature never reaches a link. ECDSA signatures come from KMS in ASN.1
// DER, CloudFront's form. opts must hash with SHA-256: KMS cannot sign the
// SHA-1 digests of CloudFront's default hash. rand is unused; KMS brings
// its own.
func (k *kmsSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil || opts.HashFunc() != crypto.SHA256 {
		var h crypto.Hash
		if opts != nil {
			h = opts.HashFunc()
		}
		return nil, fmt.Errorf("keysource: kms signs only SHA-256 digests (Hash-Algorithm=SHA256), not %v", h)
	}
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return nil, errors.New("keysource: kms: CloudFront takes PKCS #1 v1.5 signatures, not PSS")
	}
	if len(digest) != crypto.SHA256.Size() {
		return nil, fmt.Errorf("keysource: kms: digest of %d bytes; SHA-256 has 32", len(digest))
	}
	ctx, cancel := context.WithTimeout(context.Background(), k.timeout)
	defer cancel()
	out, err := k.client.Sign(ctx, &kms.SignInput{
		KeyId:            aws.String(k.key),
		Message:          digest,
		MessageType:      kmstypes.MessageTypeDigest,
		SigningAlgorithm: k.alg,
	})
	if err != nil {
		return nil, fmt.Errorf("keysource: kms sign with %s: %w", k.key, err)
	}
	if !k.verify(digest, out.Signature) {
		return nil, fmt.Errorf("keysource: kms sign with %s: the signature does not verify with the key's public key", k.key)
	}
	return out.Signature, nil
}

func (k *kmsSigner) verify(digest, sig []byte) bool {
	switch pub := k.pub.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(pub, digest, sig)
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig) == nil
	}
	return false
}
