package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/signet-dev/signet/internal/config"
	"github.com/signet-dev/signet/internal/keyfile"
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
	files := filepath.Join(dir, "files")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	pair, err := keyfile.LoadOrGenerate(filepath.Join(dir, "keys"))
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	id := pair.ID
	demo := &Demo{
		KeyID:          id,
		PrivateKeyFile: pair.PrivatePath,
		PublicKeyFile:  pair.PublicPath,
		FilesDir:       files,
		SampleKey:      "welcome.txt",
	}
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
