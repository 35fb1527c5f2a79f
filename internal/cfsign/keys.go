package cfsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Keys (§9): RSA 1024 (legacy, warned), 2048 and 4096 with PKCS#1 v1.5, and
// ECDSA P-256 with DER signatures. Nothing else is accepted.

// ParsePrivateKey reads a PEM private key: PKCS#1 ("RSA PRIVATE KEY"),
// PKCS#8 ("PRIVATE KEY", RSA or EC) or SEC1 ("EC PRIVATE KEY", possibly after
// an "EC PARAMETERS" block). Encrypted PEM is refused with a clear error.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("cfsign: no PEM private key found")
		}
		if block.Headers["Proc-Type"] == "4,ENCRYPTED" || block.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, errors.New("cfsign: the private key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)")
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "EC PARAMETERS":
			continue
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
			return nil, fmt.Errorf("cfsign: found a %s where a private key was expected", strings.ToLower(block.Type))
		default:
			return nil, fmt.Errorf("cfsign: unsupported PEM block %q", block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("cfsign: parse %s: %w", strings.ToLower(block.Type), err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("cfsign: unsupported private key type %T", key)
		}
		if err := CheckPublicKey(signer.Public()); err != nil {
			return nil, err
		}
		return signer, nil
	}
}

// ParsePublicKey reads a PEM public key: SubjectPublicKeyInfo ("PUBLIC KEY",
// the form CloudFront takes) or PKCS#1 ("RSA PUBLIC KEY").
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("cfsign: no PEM public key found")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("cfsign: found a private key where a public key was expected")
	default:
		return nil, fmt.Errorf("cfsign: unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("cfsign: parse public key: %w", err)
	}
	if err := CheckPublicKey(key); err != nil {
		return nil, err
	}
	return key, nil
}

// CheckPublicKey refuses key types and sizes CloudFront does not use (§9,
// §17 #18): RSA must be 1024, 2048 or 4096 bits, EC must be P-256.
func CheckPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch k.N.BitLen() {
		case 1024, 2048, 4096:
			return nil
		}
		return fmt.Errorf("cfsign: RSA key of %d bits; CloudFront uses 2048 (legacy 1024 and 4096 are accepted)", k.N.BitLen())
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("cfsign: EC curve %s; CloudFront supports only P-256", k.Curve.Params().Name)
		}
		return nil
	}
	return fmt.Errorf("cfsign: unsupported key type %T; use RSA or ECDSA P-256", pub)
}

// The reasons CheckSigner refuses a signing key; a SignerError wraps one.
var (
	ErrSignerUntrusted = errors.New("cfsign: no trusted key has the signer's key pair id")
	ErrSignerMismatch  = errors.New("cfsign: the signer's key is not the key trusted under its key pair id")
)

// A SignerError says why links signed with a key would not verify:
// errors.Is matches its Err, ErrSignerUntrusted or ErrSignerMismatch. It
// names the key pair id, never the key.
type SignerError struct {
	KeyID string
	Err   error
}

func (e *SignerError) Error() string { return e.Err.Error() + ": " + strconv.Quote(e.KeyID) }

func (e *SignerError) Unwrap() error { return e.Err }

// CheckSigner reports whether links signed under key pair id by the private
// half of pub would verify against trusted, the keys a Verifier is given
// (key pair id to public key): trusted must hold a key under id, and that
// key must be pub. A nil pub checks the id alone, for a signer whose key is
// not at hand. A refusal is a *SignerError.
func CheckSigner(id string, pub crypto.PublicKey, trusted map[string]crypto.PublicKey) error {
	want, ok := trusted[id]
	if !ok {
		return &SignerError{KeyID: id, Err: ErrSignerUntrusted}
	}
	if pub == nil {
		return nil
	}
	if k, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(want) {
		return &SignerError{KeyID: id, Err: ErrSignerMismatch}
	}
	return nil
}

// KeyWarning returns a caution about a usable but weak key, or "".
func KeyWarning(pub crypto.PublicKey) string {
	if k, ok := pub.(*rsa.PublicKey); ok && k.N.BitLen() == 1024 {
		return "RSA-1024 is a legacy size; CloudFront key groups take RSA-2048 or ECDSA P-256"
	}
	return ""
}

// Algorithm names the key's signature scheme: "RSA-2048", "ECDSA-P256".
func Algorithm(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA-" + strings.ReplaceAll(k.Curve.Params().Name, "-", "")
	}
	return fmt.Sprintf("%T", pub)
}

// MarshalPublicKey returns the SubjectPublicKeyInfo PEM ("PUBLIC KEY") that
// CloudFront takes on upload.
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("cfsign: marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// MarshalPrivateKey returns the PKCS#8 PEM ("PRIVATE KEY") of key.
func MarshalPrivateKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("cfsign: marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// KeyID derives a CloudFront-like key id from a public key: "K" followed by
// 13 upper-case base32 characters of the SHA-256 of its SubjectPublicKeyInfo
// (65 bits). It is stable for a key. CloudFront assigns its own id when the
// public key is uploaded; configure whichever id the signer uses.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("cfsign: key id: %w", err)
	}
	sum := sha256.Sum256(der)
	return "K" + base32.StdEncoding.EncodeToString(sum[:])[:13], nil
}

// CheckKeyID refuses key ids that cannot work or betray a mix-up (§9):
// empty, longer than 128 bytes, holding bytes other than A-Z a-z 0-9 '-' '_'
// (the id is appended to URLs unencoded), a PEM block, or an IAM access key
// id (AKIA..., ASIA...), which is the usual cause of "Unknown Key".
func CheckKeyID(id string) error {
	switch {
	case id == "":
		return errors.New("cfsign: key id is empty")
	case strings.Contains(id, "-----BEGIN"):
		return errors.New("cfsign: key id looks like a PEM key; use the id CloudFront shows for the public key (K...)")
	case len(id) > 128:
		return errors.New("cfsign: key id is longer than 128 bytes")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("cfsign: key id has %q at offset %d; ids are letters, digits, '-' and '_'", c, i)
		}
	}
	if len(id) == 20 && (strings.HasPrefix(id, "AKIA") || strings.HasPrefix(id, "ASIA")) {
		return errors.New("cfsign: key id looks like an IAM access key id; use the CloudFront public key id (K...)")
	}
	return nil
}
