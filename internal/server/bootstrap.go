package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/config"
)

// Demo describes what Bootstrap set up, for the start-up message.
type Demo struct {
	KeyID          string
	PrivateKeyFile string
	PublicKeyFile  string
	FilesDir       string
	SampleKey      string // object key of the sample file, e.g. "welcome.txt"
}

const welcome = `Hello from signet.

This file is served from a private directory. You are reading it because the
link you followed carries a valid CloudFront-style signature. Change one byte
of the link, or wait until it expires, and the edge answers 403 instead.
`

// Bootstrap prepares a zero-config run in cfg.DataDir and adds what it made
// to cfg: a key pair (made once, then reused; the private key is mode 0600),
// a files directory with a sample file (created only when missing), a key
// group "default" with the key, and a catch-all distribution serving the
// files directory to links signed by that key. It is the only place signet
// creates files on its own.
func Bootstrap(cfg *config.Config) (*Demo, error) {
	dir := cfg.DataDir
	keys := filepath.Join(dir, "keys")
	files := filepath.Join(dir, "files")
	for _, d := range []string{dir, keys} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
	}
	demo := &Demo{
		PrivateKeyFile: filepath.Join(keys, "private_key.pem"),
		PublicKeyFile:  filepath.Join(keys, "public_key.pem"),
		FilesDir:       files,
		SampleKey:      "welcome.txt",
	}
	id, err := ensureKeyPair(demo.PrivateKeyFile, demo.PublicKeyFile)
	if err != nil {
		return nil, err
	}
	demo.KeyID = id
	if _, err := os.Stat(files); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(files, 0o755); err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
		if err := os.WriteFile(filepath.Join(files, demo.SampleKey), []byte(welcome), 0o644); err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}

	if cfg.KeyGroups == nil {
		cfg.KeyGroups = map[string][]config.PublicKey{}
	}
	cfg.KeyGroups["default"] = []config.PublicKey{{ID: id, File: demo.PublicKeyFile}}
	cfg.Signing = &config.Signing{KeyID: id, PrivateKeyFile: demo.PrivateKeyFile}
	behavior := config.DefaultBehavior()
	behavior.Path = "*"
	behavior.KeyGroups = []string{"default"}
	cfg.Distributions = []config.Distribution{{
		Name:      "default",
		Origin:    config.Origin{Type: "dir", Dir: &config.DirOrigin{Path: files}},
		Behaviors: []config.Behavior{behavior},
	}}
	return demo, cfg.Validate()
}

// ensureKeyPair loads the key pair at priv and pub, or makes an ECDSA P-256
// pair there when neither exists, and returns its key id.
func ensureKeyPair(priv, pub string) (string, error) {
	data, err := os.ReadFile(priv)
	switch {
	case err == nil:
		key, err := cfsign.ParsePrivateKey(data)
		if err != nil {
			return "", fmt.Errorf("bootstrap: %s: %w", priv, err)
		}
		return cfsign.KeyID(key.Public())
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("bootstrap: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("bootstrap: generate key: %w", err)
	}
	privPEM, err := cfsign.MarshalPrivateKey(key)
	if err != nil {
		return "", err
	}
	pubPEM, err := cfsign.MarshalPublicKey(key.Public())
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(priv, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("bootstrap: %w", err)
	}
	if _, err := f.Write(privPEM); err != nil {
		f.Close()
		return "", fmt.Errorf("bootstrap: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("bootstrap: %w", err)
	}
	if err := os.WriteFile(pub, pubPEM, 0o644); err != nil {
		return "", fmt.Errorf("bootstrap: %w", err)
	}
	return cfsign.KeyID(key.Public())
}
