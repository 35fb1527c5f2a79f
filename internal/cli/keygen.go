package cli

import (
	"context"
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

// The file names keygen writes in its output directory.
const (
	privateKeyFile = "private_key.pem"
	publicKeyFile  = "public_key.pem"
)

const keygenUsage = `Usage: signet keygen [--type ecdsa|rsa] [--out DIR]

Generates a signing key pair and prints its key id on stdout (one line, so
scripts can capture it: id=$(signet keygen --out keys)).

  DIR/private_key.pem   PKCS#8 private key, mode 0600; keep it secret
  DIR/public_key.pem    SubjectPublicKeyInfo public key, mode 0644: upload it
                        to CloudFront, or give it to signet verify/serve

The key id is "K" plus 13 base32 characters of a hash of the public key, so it
is stable for a key. CloudFront assigns its own id when you upload the public
key; sign with whichever id the edge trusts. keygen never overwrites a key:
it refuses when either file already exists.

Flags:
  --type ecdsa|rsa   key type: ecdsa is P-256 (default), rsa is RSA-2048
  --out DIR          output directory (default "."), created with mode 0700
                     if missing

Example:
  signet keygen --out keys
`

// KeygenCommand is "signet keygen": it generates a key pair into a directory
// and prints the key id.
type KeygenCommand struct {
	Env
}

// Run generates the key pair.
func (c *KeygenCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("keygen")
	typ := fs.String("type", "ecdsa", "key type: ecdsa (P-256) or rsa (RSA-2048)")
	dir := fs.String("out", ".", "output directory")
	pos, err := parseArgs(fs, keygenUsage, c.Stdout, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q (see 'signet keygen -h')", pos[0])
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	var key crypto.Signer
	switch *typ {
	case "ecdsa":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return fmt.Errorf("--type %q is not ecdsa or rsa", *typ)
	}
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	priv, err := cfsign.MarshalPrivateKey(key)
	if err != nil {
		return err
	}
	pub, err := cfsign.MarshalPublicKey(key.Public())
	if err != nil {
		return err
	}
	id, err := cfsign.KeyID(key.Public())
	if err != nil {
		return err
	}

	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	privPath := filepath.Join(*dir, privateKeyFile)
	pubPath := filepath.Join(*dir, publicKeyFile)
	// Check both before writing either, so a refusal leaves no half pair.
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return errExists(p)
		}
	}
	if err := writeNew(privPath, priv, 0o600); err != nil {
		return err
	}
	if err := writeNew(pubPath, pub, 0o644); err != nil {
		os.Remove(privPath) // no private key without its public half
		return err
	}

	fmt.Fprintln(c.Stdout, id)
	fmt.Fprintf(c.Stderr, "signet: wrote %s (%s, mode 0600; keep it secret) and %s\n",
		privPath, cfsign.Algorithm(key.Public()), pubPath)
	fmt.Fprintf(c.Stderr, "signet: next: signet sign --key %s --key-id %s --expires-in 1h https://HOST/PATH\n", privPath, id)
	fmt.Fprintf(c.Stderr, "signet: if you upload %s to CloudFront, sign with the id CloudFront assigns instead\n", pubPath)
	return nil
}

// writeNew creates path with perm and writes data to it. O_EXCL makes it
// refuse an existing file, even one created since keygen looked.
func writeNew(path string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return errExists(path)
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

func errExists(path string) error {
	return fmt.Errorf("%s already exists; refusing to overwrite a key (choose another --out)", path)
}
