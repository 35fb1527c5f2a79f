package config

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"

	"github.com/signet-dev/signet/internal/cfsign"
)

// CheckFiles reads the files c names, without writing anything, and
// returns every problem as a *Problem, joined; nil when all are usable.
// It checks that TLS certificates load with their keys, that public key
// files hold keys CloudFront accepts (§17 #18), that the signing key parses
// and matches the public key a key group trusts under the same id, and
// that the directory origins, data_dir and ACME cache directories are
// directories (the last two may not exist yet: the server creates them),
// that an ACME listener's ca_roots_file holds CA certificates, that the
// edge caches' disk directories are directories and the signing API's
// token database a file (these may not exist yet either).
// Run it on a config that passes Validate; messages never quote a key.
func (c *Config) CheckFiles() error {
	v := checker{c: c}
	v.dirMayBeMissing("data_dir", c.DataDir)
	for i, l := range c.Listeners {
		p := fmt.Sprintf("listeners[%d]", i)
		if t := l.TLS; t != nil && t.CertFile != "" && t.KeyFile != "" {
			if _, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile); err != nil {
				v.add(p+".tls", "load the certificate and key: %v", err)
			}
		}
		if a := l.ACME; a != nil {
			v.dirMayBeMissing(p+".acme.cache_dir", a.CacheDir)
			if a.CARootsFile != "" {
				if _, err := LoadCARoots(a.CARootsFile); err != nil {
					v.add(p+".acme.ca_roots_file", "%v", err)
				}
			}
		}
	}
	if c.SigningAPI != nil {
		v.fileMayBeMissing("data_dir", c.StateFile())
	}
	public := map[string]crypto.PublicKey{} // key id -> parsed public key, from files and inline
	for _, name := range c.groupNames() {
		for i, k := range c.KeyGroups[name] {
			p := fmt.Sprintf("%s[%d]", mapPath("key_groups", name), i)
			data, path := []byte(k.PEM), p+".public_key"
			if k.File != "" {
				var err error
				if data, err = readSmall(k.File); err != nil {
					v.add(p+".public_key_file", "%v", err)
					continue
				}
				path = p + ".public_key_file"
			}
			pub, msg := parsePublicKey(data)
			if msg != "" {
				if k.File != "" { // inline keys are Validate's
					v.add(path, "%s: %s", k.File, msg)
				}
				continue
			}
			public[k.ID] = pub
		}
	}
	for i, d := range c.Distributions {
		if s := d.Signer; s != nil && s.Source == "file" && s.PrivateKeyFile != "" {
			v.signerKey(i, public)
		}
		if cc := d.EdgeCache(c.DataDir); cc != nil {
			v.dirMayBeMissing(fmt.Sprintf("distributions[%d].cache.disk_dir", i), cc.DiskDir)
		}
		if o := d.Origin.Dir; o != nil && o.Path != "" {
			p := fmt.Sprintf("distributions[%d].origin.dir.path", i)
			switch fi, err := os.Stat(o.Path); {
			case err != nil:
				v.add(p, "%v", err)
			case !fi.IsDir():
				v.add(p, "%s is not a directory", strconv.Quote(o.Path))
			}
		}
	}
	return v.join()
}

// signerKey checks that the key file of distributions[i].signer parses and
// is the private half of the public key that a key group of the
// distribution trusts under its id (Validate has checked that one does).
// public holds the trusted keys that parsed, by id.
func (v *checker) signerKey(i int, public map[string]crypto.PublicKey) {
	d := &v.c.Distributions[i]
	s := d.Signer
	p := fmt.Sprintf("distributions[%d].signer.private_key_file", i)
	data, err := readSmall(s.PrivateKeyFile)
	if err != nil {
		v.add(p, "%v", err)
		return
	}
	key, err := cfsign.ParsePrivateKey(data)
	if err == nil {
		err = cfsign.CheckPublicKey(key.Public())
	}
	if err != nil {
		v.add(p, "%s: %s", s.PrivateKeyFile, plain(err))
		return
	}
	trusted := map[string]crypto.PublicKey{}
	for _, g := range d.TrustedKeyGroups() {
		for _, k := range v.c.KeyGroups[g] {
			pub, ok := public[k.ID]
			if !ok && k.ID == s.KeyID {
				return // the trusted key did not parse: a problem already
			}
			if ok {
				trusted[k.ID] = pub
			}
		}
	}
	if err := cfsign.CheckSigner(s.KeyID, key.Public(), trusted); err != nil {
		path, msg := v.c.signerProblem(i, err)
		v.add(path, "%s", msg)
	}
}

// LoadCARoots reads a PEM file of CA certificates, such as an ACME
// listener's ca_roots_file, and returns them as a pool. It is the one
// check of such a file: CheckFiles reports its error, and the server
// trusts what it returns.
func LoadCARoots(path string) (*x509.CertPool, error) {
	data, err := readSmall(path)
	if err != nil {
		return nil, err
	}
	pool, err := ParseCARoots(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pool, nil
}

// ParseCARoots parses a PEM bundle of CA certificates: every PEM block
// must be a CERTIFICATE that parses, and there must be at least one. Text
// outside the blocks, such as a bundle's comments, is ignored.
func ParseCARoots(data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		n++
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is a %s, not a CERTIFICATE", n, strconv.Quote(b.Type))
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		pool.AddCert(cert)
	}
	if n == 0 {
		return nil, errors.New("no PEM certificate in it")
	}
	return pool, nil
}

// maxKeyFile bounds what readSmall reads: a PEM key is a few KiB, and a CA
// bundle, the system's included, a few hundred.
const maxKeyFile = 1 << 20

// readSmall reads a key file, refusing anything but a regular file (after
// symbolic links) of at most maxKeyFile bytes, so that a path such as
// /dev/zero cannot hang the check.
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file", path)
	case fi.Size() > maxKeyFile:
		return nil, fmt.Errorf("%s is larger than %d bytes: not a key or certificate file", path, maxKeyFile)
	}
	return io.ReadAll(io.LimitReader(f, maxKeyFile))
}

// dirMayBeMissing checks that path, if it exists, is a directory.
func (v *checker) dirMayBeMissing(key, path string) {
	if fi := v.statMayBeMissing(key, path); fi != nil && !fi.IsDir() {
		v.add(key, "%s is not a directory", strconv.Quote(path))
	}
}

// fileMayBeMissing checks that path, if it exists, is a regular file.
func (v *checker) fileMayBeMissing(key, path string) {
	if fi := v.statMayBeMissing(key, path); fi != nil && !fi.Mode().IsRegular() {
		v.add(key, "%s is not a regular file", strconv.Quote(path))
	}
}

// statMayBeMissing describes path, or returns nil when path is "" or does
// not exist, or after reporting why it cannot be looked up (such as a
// file where a directory of the path should be).
func (v *checker) statMayBeMissing(key, path string) fs.FileInfo {
	if path == "" {
		return nil
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		v.add(key, "%v", err)
		return nil
	}
	return fi
}
