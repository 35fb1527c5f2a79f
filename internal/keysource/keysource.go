// Package keysource provides the private key a signer uses, from a PEM
// file, an environment variable, an AWS Secrets Manager secret (cached and
// refreshed, so a rotated secret is picked up without a restart), or an AWS
// KMS asymmetric key that never leaves KMS. Every source yields a
// cfsign.Key: a key pair id, a crypto.Signer and the hash it signs with.
//
// Errors name the file, variable, secret or KMS key, never the key
// material, and nothing here logs key material.
package keysource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/signet-dev/signet/internal/cfsign"
)

// A Source yields the private key the signer uses now. Implementations are
// safe for concurrent use.
type Source interface {
	// Key returns the current signer and its key pair id. It may be called
	// on every signing request: it must be cheap (cached) after the first
	// call.
	Key(ctx context.Context) (cfsign.Key, error)
	// Close stops any background work the source does, such as refreshing
	// a secret, and waits for it to end. Key keeps returning the last key
	// after Close. Close may be called more than once.
	Close() error
}

// Static is a Source whose key never changes: a file, an environment
// variable or a KMS key. It is safe for concurrent use.
type Static struct {
	key cfsign.Key
}

var _ Source = (*Static)(nil)

// NewStatic returns a Source that always yields k, after k.Check.
func NewStatic(k cfsign.Key) (*Static, error) {
	if err := k.Check(); err != nil {
		return nil, err
	}
	return &Static{key: k}, nil
}

// Key returns the key; it never fails.
func (s *Static) Key(context.Context) (cfsign.Key, error) { return s.key, nil }

// Close does nothing: a Static source has no background work.
func (s *Static) Close() error { return nil }

// maxPEM bounds a key file or variable: a PEM RSA-4096 key is about 3.3 KB.
const maxPEM = 64 << 10

// File reads a PEM private key (PKCS#1, PKCS#8 or SEC1) from path once and
// returns a Source for it under keyID. Errors name the file, never the key.
func File(path, keyID string) (*Static, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keysource: key file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPEM+1))
	if err != nil {
		return nil, fmt.Errorf("keysource: key file %s: %w", path, err)
	}
	s, err := pemSource(data, keyID)
	if err != nil {
		return nil, fmt.Errorf("keysource: key file %s: %w", path, err)
	}
	return s, nil
}

// Env reads a PEM private key from the environment variable name once and
// returns a Source for it under keyID. Errors name the variable, never the
// key.
func Env(name, keyID string) (*Static, error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return nil, fmt.Errorf("keysource: environment variable %s: not set or empty", name)
	}
	s, err := pemSource([]byte(v), keyID)
	if err != nil {
		return nil, fmt.Errorf("keysource: environment variable %s: %w", name, err)
	}
	return s, nil
}

func pemSource(data []byte, keyID string) (*Static, error) {
	if len(data) > maxPEM {
		return nil, fmt.Errorf("longer than %d bytes; not a PEM private key", maxPEM)
	}
	signer, err := cfsign.ParsePrivateKey(data)
	if err != nil {
		return nil, err
	}
	return NewStatic(cfsign.NewKey(keyID, signer))
}

// maxSecret bounds a secret payload; Secrets Manager's own limit is 64 KiB.
const maxSecret = 64 << 10

// ParseSecret reads a secret's payload, in one of two forms:
//
//   - a PEM private key (PKCS#1, PKCS#8 or SEC1), signed for under keyID;
//   - a JSON object {"key_id": "K...", "private_key": "-----BEGIN ..."},
//     so that the key pair id rotates together with the key. An empty or
//     absent key_id falls back to keyID. Other fields are refused.
//
// Surrounding whitespace is ignored; a payload starting with '{' is JSON.
// The error never quotes the payload.
func ParseSecret(payload []byte, keyID string) (cfsign.Key, error) {
	if len(payload) > maxSecret {
		return cfsign.Key{}, fmt.Errorf("keysource: secret is longer than %d bytes", maxSecret)
	}
	t := bytes.TrimSpace(payload)
	pemData := t
	if len(t) > 0 && t[0] == '{' {
		var v struct {
			KeyID      *string `json:"key_id"`
			PrivateKey *string `json:"private_key"`
		}
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			return cfsign.Key{}, errors.New(jsonProblem(err))
		}
		if dec.InputOffset() != int64(len(t)) {
			return cfsign.Key{}, errors.New("keysource: secret: data after the JSON object")
		}
		if v.PrivateKey == nil || *v.PrivateKey == "" {
			return cfsign.Key{}, errors.New(`keysource: secret: JSON without "private_key"`)
		}
		if v.KeyID != nil && *v.KeyID != "" {
			keyID = *v.KeyID
		}
		pemData = []byte(*v.PrivateKey)
	}
	if keyID == "" {
		return cfsign.Key{}, errors.New(`keysource: secret: no key pair id: put "key_id" in the secret's JSON or configure one`)
	}
	if err := cfsign.CheckKeyID(keyID); err != nil {
		return cfsign.Key{}, fmt.Errorf("keysource: secret: %w", err)
	}
	signer, err := cfsign.ParsePrivateKey(pemData)
	if err != nil {
		return cfsign.Key{}, fmt.Errorf("keysource: secret: %w", err)
	}
	k := cfsign.NewKey(keyID, signer)
	if err := k.Check(); err != nil {
		return cfsign.Key{}, fmt.Errorf("keysource: secret: %w", err)
	}
	return k, nil
}

// jsonProblem describes a JSON decoding error without quoting the payload:
// encoding/json's own messages can echo a byte of it, or a field name.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("keysource: secret: invalid JSON at offset %d", syn.Offset)
	case errors.As(err, &typ) && typ.Field == "":
		return "keysource: secret: JSON is not an object"
	case errors.As(err, &typ):
		return fmt.Sprintf(`keysource: secret: JSON field %q must be a string`, typ.Field)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "keysource: secret: truncated JSON"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return `keysource: secret: JSON object with fields other than "key_id" and "private_key"`
	}
	return "keysource: secret: invalid JSON"
}
