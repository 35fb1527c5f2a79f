package lambdafn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/config"
	"github.com/signet-dev/signet/internal/keysource"
	"github.com/signet-dev/signet/internal/signapi"
)

// The environment variables ConfigFromEnv reads. AWS_REGION, the
// credentials and the endpoint overrides (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_KMS) are read by the
// AWS SDK itself, from the process environment.
const (
	EnvBaseURL        = "SIGNET_BASE_URL"         // required: scheme and host of links
	EnvDistribution   = "SIGNET_DISTRIBUTION"     // distribution name; default "default"
	EnvKeyPairID      = "SIGNET_KEY_PAIR_ID"      // CloudFront key pair id (K...)
	EnvSecretID       = "SIGNET_SECRET_ID"        // Secrets Manager secret holding the key
	EnvKMSKeyID       = "SIGNET_KMS_KEY_ID"       // KMS key id, ARN or alias
	EnvMaxLifetime    = "SIGNET_MAX_LIFETIME"     // lifetime cap, such as 12h or 7d
	EnvTokens         = "SIGNET_TOKENS"           // token records (signet token export)
	EnvTokensSecretID = "SIGNET_TOKENS_SECRET_ID" // Secrets Manager secret holding them
)

// ConfigFromEnv reads the function's configuration from getenv (os.Getenv
// in main), reporting every problem at once, and then builds what the
// cold start builds once: the key source (Secrets Manager or KMS, which
// it calls to read the key) and the tokens (parsed from SIGNET_TOKENS, or
// read from the SIGNET_TOKENS_SECRET_ID secret). Errors never hold key
// material or tokens. logger receives the key source's records. The
// caller owns cfg.Key and closes it when done (a Lambda process never is).
func ConfigFromEnv(ctx context.Context, getenv func(string) string, logger *slog.Logger) (Config, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	cfg := Config{
		BaseURL:      get(EnvBaseURL),
		Distribution: get(EnvDistribution),
		Logger:       logger,
	}
	pairID, secretID, kmsKeyID := get(EnvKeyPairID), get(EnvSecretID), get(EnvKMSKeyID)
	tokensJSON, tokensSecret := get(EnvTokens), get(EnvTokensSecretID)
	var errs []error
	if cfg.BaseURL == "" {
		errs = append(errs, fmt.Errorf("%s: required, such as https://media.example.com", EnvBaseURL))
	}
	switch {
	case secretID == "" && kmsKeyID == "":
		errs = append(errs, fmt.Errorf("%s or %s: one is required", EnvSecretID, EnvKMSKeyID))
	case secretID != "" && kmsKeyID != "":
		errs = append(errs, fmt.Errorf("%s and %s: set only one", EnvSecretID, EnvKMSKeyID))
	case kmsKeyID != "" && pairID == "":
		errs = append(errs, fmt.Errorf("%s: required with %s", EnvKeyPairID, EnvKMSKeyID))
	}
	if pairID != "" {
		if err := cfsign.CheckKeyID(pairID); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvKeyPairID, err))
		}
	}
	if s := get(EnvMaxLifetime); s != "" {
		d, err := config.ParseDuration(s)
		if err == nil {
			if err = cfsign.CheckMaxLifetime(time.Duration(d)); err != nil {
				err = fmt.Errorf("%s is %w", s, err)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvMaxLifetime, err))
		}
		cfg.MaxLifetime = time.Duration(d)
	}
	switch {
	case tokensJSON != "" && tokensSecret != "":
		errs = append(errs, fmt.Errorf("%s and %s: set only one", EnvTokens, EnvTokensSecretID))
	case tokensJSON != "":
		st, err := signapi.ParseStaticTokens([]byte(tokensJSON))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvTokens, err))
		} else {
			cfg.Tokens = st
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("lambdafn: environment: %w", err)
	}

	var err error
	if secretID != "" {
		cfg.Key, err = keysource.SecretsManager(ctx, keysource.SecretsManagerConfig{
			SecretID: secretID, KeyID: pairID, Logger: logger,
		})
	} else {
		cfg.Key, err = keysource.KMS(ctx, keysource.KMSConfig{KeyID: kmsKeyID, PairID: pairID})
	}
	if err != nil {
		return Config{}, fmt.Errorf("lambdafn: %w", err)
	}
	if tokensSecret != "" {
		if cfg.Tokens, err = newSecretTokens(ctx, tokensSecret); err != nil {
			cfg.Key.Close()
			return Config{}, fmt.Errorf("lambdafn: %s: %w", EnvTokensSecretID, err)
		}
	}
	return cfg, nil
}

// secretTokens are token records held in a Secrets Manager secret, read
// when made and again on Refresh. Safe for concurrent use.
type secretTokens struct {
	secret *keysource.SecretReader
	id     string
	cur    atomic.Pointer[tokenVersion]
}

type tokenVersion struct {
	versionID string
	tokens    *signapi.StaticTokens
}

// newSecretTokens reads the token records in secret id.
func newSecretTokens(ctx context.Context, id string) (*secretTokens, error) {
	r, err := keysource.NewSecretReader(ctx, keysource.SecretsManagerConfig{SecretID: id})
	if err != nil {
		return nil, err
	}
	st := &secretTokens{secret: r, id: id}
	if err := st.Refresh(ctx); err != nil {
		return nil, err
	}
	return st, nil
}

// Refresh reads the secret again; on error the tokens last read stay.
func (s *secretTokens) Refresh(ctx context.Context) error {
	old := s.cur.Load()
	var known string
	if old != nil {
		known = old.versionID
	}
	version, payload, err := s.secret.Read(ctx, known)
	if err != nil || payload == nil {
		return err
	}
	st, err := signapi.ParseStaticTokens(payload)
	if err != nil {
		return fmt.Errorf("secret %s version %s: %w", s.id, version, err)
	}
	s.cur.Store(&tokenVersion{versionID: version, tokens: st})
	return nil
}

// Lookup implements signapi.TokenLookup with the tokens last read.
func (s *secretTokens) Lookup(secret string) (signapi.Token, error) {
	return s.cur.Load().tokens.Lookup(secret)
}

// NewLogger returns the function's logger: JSON records on w at the level
// of Lambda's AWS_LAMBDA_LOG_LEVEL (set by the function's logging
// configuration: TRACE and DEBUG log debug records, such as each HTTP
// event's status and IAM caller; WARN; ERROR and FATAL), Info by default.
func NewLogger(w io.Writer, getenv func(string) string) *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToUpper(getenv("AWS_LAMBDA_LOG_LEVEL")) {
	case "TRACE", "DEBUG":
		level = slog.LevelDebug
	case "WARN":
		level = slog.LevelWarn
	case "ERROR", "FATAL":
		level = slog.LevelError
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
