package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/keyfile"
)

var keygenPage = &page{
	summary: "generate a key pair (ECDSA P-256 or RSA-2048) and print its key id",
	usage:   []string{"keygen [--type ecdsa|rsa] [--out DIR]"},
	about: `Generates a signing key pair and prints its key id on stdout (one line, so
scripts can capture it: id=$(signet keygen --out keys)).

  DIR/private_key.pem   PKCS#8 private key, mode 0600; keep it secret
  DIR/public_key.pem    SubjectPublicKeyInfo public key, mode 0644: upload it
                        to CloudFront, or give it to signet verify/serve

The key id is "K" plus 13 base32 characters of a hash of the public key, so it
is stable for a key. CloudFront assigns its own id when you upload the public
key; sign with whichever id the edge trusts. keygen never overwrites a key:
it refuses when either file already exists.`,
	examples: []string{"keygen --out keys", "keygen --type rsa --out keys-rsa"},
}

// KeygenCommand is "signet keygen": it generates a key pair into a directory
// and prints the key id.
type KeygenCommand struct {
	Env
}

// Run generates the key pair.
func (c *KeygenCommand) Run(ctx context.Context, args []string) error {
	flags := newFlagSet("keygen")
	typ := flags.String("type", "ecdsa", "key type `ecdsa|rsa`: ecdsa is P-256, rsa is RSA-2048")
	dir := flags.String("out", ".", "output directory `DIR`, created with mode 0700 if missing")
	if err := parseNoArgs(flags, keygenPage, &c.Env, args); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	if *typ != "ecdsa" && *typ != "rsa" {
		return fmt.Errorf("--type %q is not ecdsa or rsa", *typ)
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	pair, err := keyfile.Generate(*dir, *typ)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w (choose another --out)", err)
	}
	if err != nil {
		return err
	}
	id, privPath, pubPath := pair.ID, pair.PrivatePath, pair.PublicPath

	fmt.Fprintln(c.Stdout, id)
	fmt.Fprintf(c.Stderr, "signet: wrote %s (%s, mode 0600; keep it secret) and %s\n",
		privPath, cfsign.Algorithm(pair.Public), pubPath)
	fmt.Fprintf(c.Stderr, "signet: next: signet sign --key %s --key-id %s --expires-in 1h https://HOST/PATH\n", privPath, id)
	fmt.Fprintf(c.Stderr, "signet: if you upload %s to CloudFront, sign with the id CloudFront assigns instead\n", pubPath)
	return nil
}
