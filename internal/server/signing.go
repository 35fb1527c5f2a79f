package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/config"
	"github.com/signet-dev/signet/internal/keysource"
	"github.com/signet-dev/signet/internal/signapi"
)

// TokensFile is where the signing API's token database lives for cfg: the
// configured file, or <data_dir>/tokens.db.
func TokensFile(cfg *config.Config) string {
	if cfg.SigningAPI != nil && cfg.SigningAPI.TokensFile != "" {
		return cfg.SigningAPI.TokensFile
	}
	return filepath.Join(cfg.DataDir, "tokens.db")
}

// newSigningAPI builds the signing API of cfg: the token store and, for each
// distribution with a signer, its key source. Everything it opens is added
// to s.closers.
func (s *Server) newSigningAPI(ctx context.Context, cfg *config.Config, now func() time.Time) (*signapi.API, error) {
	file := TokensFile(cfg)
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, fmt.Errorf("signing_api: %w", err)
	}
	store, err := signapi.OpenTokenStore(file, signapi.TokenOptions{Now: now})
	if err != nil {
		return nil, fmt.Errorf("signing_api: tokens: %w", err)
	}
	s.closers = append(s.closers, store.Close)
	var dists []signapi.Distribution
	for i, d := range cfg.Distributions {
		if d.Signer == nil {
			continue
		}
		src, err := newKeySource(ctx, d.Signer, s.log)
		if err != nil {
			return nil, fmt.Errorf("distributions[%d].signer: %w", i, err)
		}
		s.closers = append(s.closers, src.Close)
		sg := d.Signer
		dists = append(dists, signapi.Distribution{
			Name:    d.Name,
			BaseURL: d.BaseURL,
			Key: signapi.KeySourceFunc(func(ctx context.Context) (signapi.Key, error) {
				k, err := src.Key(ctx)
				return signapi.Key(k), err
			}),
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

// newKeySource is the one switch on the signer's key source.
func newKeySource(ctx context.Context, c *config.Signer, log *slog.Logger) (keysource.Source, error) {
	switch c.Source {
	case "file":
		return keysource.File(c.PrivateKeyFile, c.KeyID)
	case "env":
		return keysource.Env(c.Env, c.KeyID)
	case "secrets_manager":
		return keysource.SecretsManager(ctx, keysource.SecretsManagerConfig{
			SecretID: c.SecretID, KeyID: c.KeyID, Region: c.Region, Endpoint: c.Endpoint,
			Refresh: time.Duration(c.Refresh), Logger: log,
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
