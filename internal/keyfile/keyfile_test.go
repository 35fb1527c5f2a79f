package keyfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/keyfile"
)

func TestGenerateLoad(t *testing.T) {
	for _, typ := range []string{"ecdsa", "rsa"} {
		t.Run(typ, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			p, err := keyfile.Generate(dir, typ)
			if err != nil {
				t.Fatal(err)
			}
			for path, mode := range map[string]fs.FileMode{dir: 0o700, p.PrivatePath: 0o600} {
				info, err := os.Stat(path)
				if err != nil || info.Mode().Perm() != mode {
					t.Errorf("%s: %v, mode %v; want %v", path, err, info.Mode().Perm(), mode)
				}
			}
			pubPEM, err := os.ReadFile(p.PublicPath)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := cfsign.ParsePublicKey(pubPEM)
			if err != nil {
				t.Fatal(err)
			}
			if id, _ := cfsign.KeyID(pub); id != p.ID {
				t.Errorf("public key file has id %s; Generate returned %s", id, p.ID)
			}
			l, err := keyfile.Load(dir)
			if err != nil || l.ID != p.ID {
				t.Errorf("Load = %+v, %v; want id %s", l, err, p.ID)
			}
			if _, err := keyfile.Generate(dir, typ); !errors.Is(err, fs.ErrExist) {
				t.Errorf("Generate over an existing pair = %v; want fs.ErrExist", err)
			}
			if l, err := keyfile.LoadOrGenerate(dir); err != nil || l.ID != p.ID {
				t.Errorf("LoadOrGenerate of an existing pair = %+v, %v; want id %s", l, err, p.ID)
			}
		})
	}
}

func TestGenerateRefusals(t *testing.T) {
	dir := t.TempDir()
	if _, err := keyfile.Generate(dir, "dsa"); err == nil {
		t.Error("Generate(dsa) succeeded")
	}
	// An existing public key alone also stops Generate, which then writes nothing.
	os.WriteFile(filepath.Join(dir, keyfile.PublicName), []byte("x"), 0o644)
	if _, err := keyfile.Generate(dir, "ecdsa"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Generate with a public key present = %v; want fs.ErrExist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, keyfile.PrivateName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a private key was written next to an existing public key: %v", err)
	}
	if _, err := keyfile.Load(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of an empty directory = %v; want fs.ErrNotExist", err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, keyfile.PrivateName), []byte("not a key"), 0o600)
	if _, err := keyfile.LoadOrGenerate(bad); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadOrGenerate with a corrupt key = %v; want a parse error, not a new key", err)
	}
}
