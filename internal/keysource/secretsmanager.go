package keysource

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/signet-dev/signet/internal/cfsign"
)

// DefaultRefresh is how often a Secrets Manager source reads its secret
// again when SecretsManagerConfig.Refresh is 0.
const DefaultRefresh = 5 * time.Minute

// DefaultAWSTimeout bounds one call to Secrets Manager or KMS when the
// config's Timeout is 0.
const DefaultAWSTimeout = 10 * time.Second

// SecretsManagerConfig names a secret that holds the signing key, in either
// form ParseSecret reads: a PEM private key, or the JSON object
// {"key_id": "K...", "private_key": "-----BEGIN ..."}. Rotate with the JSON
// form: CloudFront gives every public key its own id, so a new key needs a
// new key_id, and only JSON changes both at once. A PEM secret keeps the
// configured KeyID.
type SecretsManagerConfig struct {
	// SecretID is the secret's name or ARN; its AWSCURRENT version is read.
	SecretID string
	// KeyID is the key pair id for a PEM secret, or a JSON secret without
	// "key_id"; a JSON secret's "key_id" takes precedence.
	KeyID string
	// Region is the secret's region; "" takes it from the standard AWS
	// configuration (AWS_REGION, ~/.aws/config), and failing that is
	// "us-east-1" when an endpoint override is set.
	Region string
	// Endpoint overrides Secrets Manager's URL, such as a moto server's
	// "http://127.0.0.1:5000"; "" means AWS (or AWS_ENDPOINT_URL...).
	Endpoint string
	// Credentials, when set, replace the standard AWS credential chain
	// (environment, shared files, container and instance roles).
	Credentials aws.CredentialsProvider
	// Refresh is how often the secret is read again; 0 means
	// DefaultRefresh.
	Refresh time.Duration
	// Timeout bounds each call to Secrets Manager; 0 means
	// DefaultAWSTimeout.
	Timeout time.Duration
	// Logger receives refresh failures and key changes, never key
	// material; nil discards them.
	Logger *slog.Logger
	// Check, when set, vets every key read from the secret, the first
	// included, before it is used: a key it refuses does not become the
	// current key, and its error is the read's. The server checks that
	// the edge trusts the key (cfsign.CheckSigner).
	Check func(cfsign.Key) error
	// OnRefreshError, when set, is called with the error of each failed
	// background refresh, after it is logged; for metrics.
	OnRefreshError func(error)
}

// The errors of a failed read of the secret, other than Check's: errors.Is
// tells them apart.
var (
	ErrSecretUnreadable = errors.New("keysource: secret unreadable")
	ErrSecretUnusable   = errors.New("keysource: secret unusable")
)

// Secret is a Source backed by a Secrets Manager secret. The key is read
// once by SecretsManager and then again every Refresh by a background
// goroutine that Close stops: a rotated secret (a new key, or a new key and
// key_id) is picked up without a restart. A failed refresh (unreadable,
// unusable, or refused by Check) keeps the last good key and is logged as
// an error. Key never calls AWS. A Secret is safe for concurrent use.
type Secret struct {
	r       *SecretReader
	keyID   string
	log     *slog.Logger
	check   func(cfsign.Key) error
	onError func(error)

	cur  atomic.Pointer[secretVersion]
	mu   sync.Mutex // serialises refreshes
	stop context.CancelFunc
	done chan struct{}
}

// secretVersion is one version of the secret, as parsed.
type secretVersion struct {
	versionID string
	key       cfsign.Key
}

var _ Source = (*Secret)(nil)

// SecretReader reads the current version of one Secrets Manager secret,
// whatever it holds: a Secret reads its signing key through one, and the
// Lambda function its token records. It is safe for concurrent use.
type SecretReader struct {
	client  *secretsmanager.Client
	id      string
	timeout time.Duration
}

// NewSecretReader checks cfg as SecretsManager does and makes the client
// for the secret it names, from SecretID, Region, Endpoint, Credentials and
// Timeout. It does not call AWS.
func NewSecretReader(ctx context.Context, cfg SecretsManagerConfig) (*SecretReader, error) {
	var errs []error
	if cfg.SecretID == "" {
		errs = append(errs, errors.New("secret_id: required"))
	}
	if cfg.Refresh < 0 {
		errs = append(errs, fmt.Errorf("refresh: %v is negative", cfg.Refresh))
	}
	awsCfg, timeout, err := loadAWS(ctx, "secrets manager", awsSettings{cfg.Region, cfg.Endpoint, cfg.Credentials, cfg.Timeout}, errs...)
	if err != nil {
		return nil, err
	}
	return &SecretReader{client: secretsmanager.NewFromConfig(awsCfg), id: cfg.SecretID, timeout: timeout}, nil
}

// Read reads the secret's AWSCURRENT version, within the reader's
// timeout, and returns its version id and payload: the secret's string, or
// else its binary. The payload is nil, and the error too, exactly when the
// version id is known (the one the caller holds) and not "": nothing
// changed. The error names the secret, never its payload.
func (r *SecretReader) Read(ctx context.Context, known string) (version string, payload []byte, err error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	out, err := r.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(r.id)})
	if err != nil {
		return "", nil, fmt.Errorf("get secret %s: %w", r.id, err)
	}
	version = aws.ToString(out.VersionId)
	if version != "" && version == known {
		return version, nil, nil
	}
	payload = out.SecretBinary
	if out.SecretString != nil {
		payload = []byte(*out.SecretString)
	}
	if payload == nil {
		payload = []byte{} // nil means unchanged
	}
	return version, payload, nil
}

// SecretsManager checks cfg, reads the secret once (within ctx) and starts
// refreshing it in the background until Close. ctx bounds only this first
// read; it does not stop the refresher.
func SecretsManager(ctx context.Context, cfg SecretsManagerConfig) (*Secret, error) {
	r, err := NewSecretReader(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = DefaultRefresh
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Secret{
		r:       r,
		keyID:   cfg.KeyID,
		log:     log.With("secret_id", cfg.SecretID),
		check:   cfg.Check,
		onError: cfg.OnRefreshError,
		done:    make(chan struct{}),
	}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	loopCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.loop(loopCtx, cfg.Refresh) // waited for by Close
	return s, nil
}

// Key returns the key of the latest good version of the secret.
func (s *Secret) Key(context.Context) (cfsign.Key, error) {
	return s.cur.Load().key, nil
}

// Refresh reads the secret now and, if its version changed, parses and
// passes Check, makes it the current key. On error the current key stays;
// the error matches ErrSecretUnreadable, ErrSecretUnusable or wraps
// Check's. The background refresher calls it; a caller may too, say on
// SIGHUP.
func (s *Secret) Refresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cur.Load()
	var known string
	if old != nil {
		known = old.versionID
	}
	version, payload, err := s.r.Read(ctx, known)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSecretUnreadable, err)
	}
	if payload == nil {
		return nil
	}
	key, err := ParseSecret(payload, s.keyID)
	if err != nil {
		return fmt.Errorf("%w: secret %s version %s: %w", ErrSecretUnusable, s.r.id, version, err)
	}
	if s.check != nil {
		if err := s.check(key); err != nil {
			return fmt.Errorf("keysource: secret %s version %s: %w", s.r.id, version, err)
		}
	}
	s.cur.Store(&secretVersion{versionID: version, key: key})
	switch {
	case old == nil:
	case key.ID == old.key.ID && !samePublic(key, old.key):
		// Links signed now will fail wherever key.ID names the old
		// public key.
		s.log.WarnContext(ctx, "signing key changed under the same key id; give a new key a new key_id",
			"key_id", key.ID, "version_id", version)
	default:
		s.log.InfoContext(ctx, "signing key changed", "key_id", key.ID, "old_key_id", old.key.ID, "version_id", version)
	}
	return nil
}

// loop refreshes the secret every interval until ctx ends.
func (s *Secret) loop(ctx context.Context, interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "secret refresh failed; keeping the last good key",
				"key_id", s.cur.Load().key.ID, "reason", err.Error())
			if s.onError != nil {
				s.onError(err)
			}
		}
	}
}

// Close stops the background refresher and waits for it to end. Key keeps
// returning the last key.
func (s *Secret) Close() error {
	s.stop()
	<-s.done
	return nil
}

// samePublic reports whether a and b have the same public key.
func samePublic(a, b cfsign.Key) bool {
	pub, ok := a.Signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(b.Signer.Public())
}
