// Package keyfile writes and reads signet's key pair files: a PKCS#8
// private key (mode 0600) and its SubjectPublicKeyInfo public key, side by
// side in one directory. `signet keygen` and the zero-config `signet serve`
// both use it, so a key is never written in two ways.
package keyfile

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/signet-dev/signet/internal/cfsign"
)

// The file names of a key pair in its directory.
const (
	PrivateName = "private_key.pem"
	PublicName  = "public_key.pem"
)

// Pair is a key pair on disk.
type Pair struct {
	ID          string // derived key id (cfsign.KeyID)
	PrivatePath string
	PublicPath  string
	Public      crypto.PublicKey
}

// Generate makes a new key pair of type "ecdsa" (P-256) or "rsa" (RSA-2048)
// in dir, creating dir with mode 0700 if needed. It never overwrites: when
// either file exists it writes nothing and returns an error matching
// fs.ErrExist. The private key is created with O_EXCL and mode 0600, and
// removed again if the public key cannot be written.
func Generate(dir, typ string) (Pair, error) {
	var (
		key crypto.Signer
		err error
	)
	switch typ {
	case "ecdsa":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return Pair{}, fmt.Errorf("key type %q is not ecdsa or rsa", typ)
	}
	if err != nil {
		return Pair{}, fmt.Errorf("generate key: %w", err)
	}
	priv, err := cfsign.MarshalPrivateKey(key)
	if err != nil {
		return Pair{}, err
	}
	pub, err := cfsign.MarshalPublicKey(key.Public())
	if err != nil {
		return Pair{}, err
	}
	id, err := cfsign.KeyID(key.Public())
	if err != nil {
		return Pair{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Pair{}, fmt.Errorf("create key directory: %w", err)
	}
	p := Pair{ID: id, PrivatePath: filepath.Join(dir, PrivateName), PublicPath: filepath.Join(dir, PublicName), Public: key.Public()}
	// Check both before writing either, so a refusal leaves no half pair.
	for _, path := range []string{p.PrivatePath, p.PublicPath} {
		if _, err := os.Lstat(path); err == nil {
			return Pair{}, existsError(path)
		}
	}
	if err := writeNew(p.PrivatePath, priv, 0o600); err != nil {
		return Pair{}, err
	}
	if err := writeNew(p.PublicPath, pub, 0o644); err != nil {
		os.Remove(p.PrivatePath) // no private key without its public half
		return Pair{}, err
	}
	return p, nil
}

// Load reads the private key of the pair in dir and returns the pair. A
// missing private key gives an error matching fs.ErrNotExist.
func Load(dir string) (Pair, error) {
	p := Pair{PrivatePath: filepath.Join(dir, PrivateName), PublicPath: filepath.Join(dir, PublicName)}
	data, err := os.ReadFile(p.PrivatePath)
	if err != nil {
		return Pair{}, fmt.Errorf("read key: %w", err)
	}
	key, err := cfsign.ParsePrivateKey(data)
	if err != nil {
		return Pair{}, fmt.Errorf("%s: %w", p.PrivatePath, err)
	}
	p.Public = key.Public()
	if p.ID, err = cfsign.KeyID(p.Public); err != nil {
		return Pair{}, err
	}
	return p, nil
}

// LoadOrGenerate loads the pair in dir, or generates an ECDSA P-256 pair
// there when it has none.
func LoadOrGenerate(dir string) (Pair, error) {
	p, err := Load(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return Generate(dir, "ecdsa")
	}
	return p, err
}

// writeNew creates path with perm and writes data to it. O_EXCL makes it
// refuse an existing file, even one created since Generate looked.
func writeNew(path string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return existsError(path)
	}
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// existsError reports a key file that is already there; it matches
// fs.ErrExist.
type existsError string

func (e existsError) Error() string {
	return string(e) + " already exists; refusing to overwrite a key"
}

func (e existsError) Is(target error) bool { return target == fs.ErrExist }
