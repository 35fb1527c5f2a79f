package server

import (
	"context"
	"crypto"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/config"
	"github.com/signet-dev/signet/internal/keysource"
	"github.com/signet-dev/signet/internal/signapi"
	"github.com/signet-dev/signet/internal/state/sqlite"
)

// newSigningAPI builds the signing API of cfg: the token store and, for each
// distribution with a signer, its key source. groups are the trusted keys
// by key group and key id: each signer's key must be the one its
// distribution's key groups trust under its id, at start (a config problem
// otherwise) and after every refresh (the old key stays otherwise).
// Everything it opens is added to s.closers.
func (s *Server) newSigningAPI(ctx context.Context, cfg *config.Config, groups map[string]map[string]crypto.PublicKey, now func() time.Time) (*signapi.API, error) {
	file := cfg.StateFile()
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, fmt.Errorf("signing_api: %w", err)
	}
	st, err := sqlite.Open(ctx, file)
	if err != nil {
		return nil, fmt.Errorf("signing_api: tokens: %w", err)
	}
	s.closers = append(s.closers, st.Close)
	store, err := signapi.NewTokenStore(st, signapi.StoreOptions{Now: now})
	if err != nil {
		return nil, fmt.Errorf("signing_api: tokens: %w", err)
	}
	s.closers = append(s.closers, store.Close)
	var dists []signapi.Distribution
	for i, d := range cfg.Distributions {
		if d.Signer == nil {
			continue
		}
		src, err := s.newSigner(ctx, d, groups)
		if err != nil {
			return nil, cfg.SignerProblem(i, err)
		}
		s.closers = append(s.closers, src.Close)
		sg := d.Signer
		dists = append(dists, signapi.Distribution{
			Name:        d.Name,
			BaseURL:     d.BaseURL,
			Key:         src,
			MaxLifetime: time.Duration(sg.MaxLifetime),
			RequireIP:   sg.RequireIP,
			AllowBroad:  sg.AllowBroad,
			Quantum:     time.Duration(sg.Quantum),
			CacheSize:   sg.CacheSize,
		})
	}
	return signapi.New(signapi.Config{
		Distributions: dists,
		Tokens:        store,
		MaxBatch:      cfg.SigningAPI.MaxBatch,
		Now:           now,
		Logger:        s.log,
	})
}

// newSigner makes the key source of d's signer and checks its key against
// the keys d's key groups trust (see cfsign.CheckSigner); a secret's key is
// checked again at every refresh, and a refused refresh is counted.
func (s *Server) newSigner(ctx context.Context, d config.Distribution, groups map[string]map[string]crypto.PublicKey) (keysource.Source, error) {
	trusted := trustedKeys(groups, d.TrustedKeyGroups())
	check := func(k cfsign.Key) error { return cfsign.CheckSigner(k.ID, k.Signer.Public(), trusted) }
	log := s.log.With("distribution", d.Name)
	onError := func(err error) {
		s.metrics.signerRefreshErrors.WithLabelValues(d.Name, labelOf(err, refreshReasons)).Inc()
	}
	if d.Signer.Source == "secrets_manager" {
		for _, r := range refreshReasons {
			s.metrics.signerRefreshErrors.WithLabelValues(d.Name, r.label) // 0 until one happens
		}
	}
	src, err := newKeySource(ctx, d.Signer, check, onError, log)
	if err != nil {
		return nil, err
	}
	k, err := src.Key(ctx)
	if err == nil {
		err = check(k)
	}
	if err != nil {
		src.Close()
		return nil, err
	}
	return src, nil
}

// newKeySource is the one switch on the signer's key source. check and
// onError are a secret's (see keysource.SecretsManagerConfig).
func newKeySource(ctx context.Context, c *config.Signer, check func(cfsign.Key) error, onError func(error), log *slog.Logger) (keysource.Source, error) {
	switch c.Source {
	case "file":
		return keysource.File(c.PrivateKeyFile, c.KeyID)
	case "env":
		return keysource.Env(c.Env, c.KeyID)
	case "secrets_manager":
		return keysource.SecretsManager(ctx, keysource.SecretsManagerConfig{
			SecretID: c.SecretID, KeyID: c.KeyID, Region: c.Region, Endpoint: c.Endpoint,
			Refresh: time.Duration(c.Refresh), Logger: log, Check: check, OnRefreshError: onError,
		})
	case "kms":
		return keysource.KMS(ctx, keysource.KMSConfig{
			KeyID: c.KMSKeyID, PairID: c.KeyID, Region: c.Region, Endpoint: c.Endpoint,
		})
	}
	return nil, fmt.Errorf("unknown key source %q", c.Source)
}

// withAPI routes requests under prefix to the signing API and the rest to
// the edge.
func withAPI(edge, api http.Handler, prefix string) http.Handler {
	mounted := http.StripPrefix(prefix, api)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, prefix+"/") {
			mounted.ServeHTTP(w, r)
			return
		}
		edge.ServeHTTP(w, r)
	})
}
