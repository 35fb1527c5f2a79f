// Package s3 is the origin that reads objects from an S3-compatible bucket
// (AWS, MinIO and the like) with aws-sdk-go-v2: Stat is HeadObject, Open a
// ranged GetObject with If-Match, and Presign hands out short-lived GET
// URLs for the edge's redirect mode. The bucket stays private; only the
// edge holds credentials for it.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"

	"github.com/signet-dev/signet/internal/origin"
)

// DefaultTimeout is how long S3 may keep the edge waiting, for response
// headers or for any one read of a body, when Config.Timeout is 0.
const DefaultTimeout = 30 * time.Second

// MaxPresignTTL is the longest lifetime of a presigned URL: SigV4 refuses
// longer ones.
const MaxPresignTTL = 7 * 24 * time.Hour

// MaxRetryWait bounds the wait before each retry of a failed S3 call (the
// SDK makes three attempts; AWS_MAX_ATTEMPTS changes that): a random time
// below it, where the SDK's default waits up to 2s, then 4s, which a viewer
// would sit out too. The edge rather answers at once, from a stale copy or
// with a 502, and marks an origin that does not answer down (package
// health).
const MaxRetryWait = 200 * time.Millisecond

// Config describes a bucket.
type Config struct {
	Bucket string
	// Region is the bucket's region; "" takes it from the standard AWS
	// configuration (AWS_REGION, ~/.aws/config), and failing that is
	// "us-east-1" when Endpoint is set.
	Region string
	// Endpoint is the base URL of an S3-compatible service, such as
	// "http://127.0.0.1:9000"; "" means AWS.
	Endpoint string
	// PathStyle puts the bucket in the path rather than the host name, as
	// most S3-compatible services need.
	PathStyle bool
	// Prefix is prepended to every key, with a '/' between: Prefix
	// "videos" reads key "a.mp4" from "videos/a.mp4". "" means none.
	// Leading '/'s are dropped; the rest must be an origin.Prefix.
	Prefix string
	// AccessKeyID, SecretAccessKey and the optional SessionToken are
	// static credentials; when AccessKeyID is "" the standard AWS chain
	// (environment, shared files, instance role) provides them. They are
	// never logged or put in an error.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Timeout bounds how long S3 may keep the edge waiting for response
	// headers, or for any one read of a body; it does not limit how long
	// a whole download takes. 0 means DefaultTimeout.
	Timeout time.Duration
}

// Origin reads objects from one bucket. Its methods are safe for concurrent
// use.
type Origin struct {
	bucket  string
	prefix  string // "" or ending in '/'
	timeout time.Duration
	client  *awss3.Client
	presign *awss3.PresignClient
}

// The optional interfaces are asserted with the one every origin has, so
// that a change of signature cannot silently switch off the edge cache's
// one-request cold miss (Getter) or redirect mode (Presigner).
var (
	_ origin.Origin    = (*Origin)(nil)
	_ origin.Getter    = (*Origin)(nil)
	_ origin.Presigner = (*Origin)(nil)
)

// New checks cfg and builds a client for the bucket. It makes no request,
// so a bucket that does not exist or refuses the credentials shows up at
// the first Stat.
func New(ctx context.Context, cfg Config) (*Origin, error) {
	var errs []error
	if cfg.Bucket == "" {
		errs = append(errs, errors.New("bucket: required"))
	}
	// A leading '/' is dropped here; the config file refuses it.
	prefix, err := origin.Prefix(strings.TrimLeft(cfg.Prefix, "/"))
	if err != nil {
		errs = append(errs, fmt.Errorf("prefix: %w", err))
	}
	if cfg.AccessKeyID == "" && (cfg.SecretAccessKey != "" || cfg.SessionToken != "") ||
		cfg.AccessKeyID != "" && cfg.SecretAccessKey == "" {
		errs = append(errs, errors.New("access_key_id and secret_access_key: set both or neither"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: %v is negative", cfg.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("s3 origin: %w", err)
	}

	opts := []func(*config.LoadOptions) error{
		// The SDK's own logger writes to stderr; the edge logs what matters.
		config.WithLogger(logging.Nop{}),
		// Checksums of whole objects are checked only when asked for: the
		// edge reads ranges, and objects uploaded in parts have none.
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
					return rand.N(MaxRetryWait), nil
				})
			})
		}),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3 origin: aws config: %w", err)
	}
	if awsCfg.Region == "" {
		if cfg.Endpoint == "" {
			return nil, errors.New("s3 origin: region: required (set it, or AWS_REGION)")
		}
		awsCfg.Region = "us-east-1"
	}
	client := awss3.NewFromConfig(awsCfg, func(o *awss3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	})
	o := &Origin{
		bucket:  cfg.Bucket,
		timeout: cfg.Timeout,
		client:  client,
		presign: awss3.NewPresignClient(client),
		prefix:  prefix,
	}
	if o.timeout == 0 {
		o.timeout = DefaultTimeout
	}
	return o, nil
}

// Stat sends HeadObject for key. A missing key gives an error matching
// fs.ErrNotExist (AWS answers 403 instead when the credentials may not list
// the bucket, which is then an error like any other).
func (o *Origin) Stat(ctx context.Context, key string) (origin.Info, error) {
	if err := origin.CheckKey(key); err != nil {
		return origin.Info{}, err
	}
	ctx, w := origin.NewWatchdog(ctx, o.timeout)
	defer w.Stop()
	out, err := o.client.HeadObject(ctx, &awss3.HeadObjectInput{
		Bucket: aws.String(o.bucket),
		Key:    aws.String(o.prefix + key),
	})
	if err != nil {
		if status(err) == http.StatusNotFound {
			return origin.Info{}, fmt.Errorf("s3 origin: head %s: %w", key, fs.ErrNotExist)
		}
		return origin.Info{}, fmt.Errorf("s3 origin: head %s: %w", key, cause(ctx, err))
	}
	if out.ContentLength == nil || *out.ContentLength < 0 {
		return origin.Info{}, fmt.Errorf("s3 origin: head %s: no Content-Length", key)
	}
	return newInfo(key, *out.ContentLength, headers{out.ETag, out.ContentType, out.CacheControl, out.ExpiresString, out.LastModified}), nil
}

// headers are the response headers an Info is made of, as HeadObject and
// GetObject both return them.
type headers struct {
	etag, contentType, cacheControl, expires *string
	lastModified                             *time.Time
}

// newInfo is the Info of key, size bytes, from its response headers.
func newInfo(key string, size int64, h headers) origin.Info {
	info := origin.Info{
		Key:          key,
		Size:         size,
		ETag:         origin.StrongETag(aws.ToString(h.etag)),
		ContentType:  aws.ToString(h.contentType),
		CacheControl: aws.ToString(h.cacheControl),
		Expires:      aws.ToString(h.expires),
	}
	if h.lastModified != nil {
		info.ModTime = *h.lastModified
	}
	return info
}

// Get sends GetObject for the first n bytes of key (a Range, and no
// If-Match): the response's headers are what Stat reads from HeadObject,
// its Content-Range gives the size, and its body is the start of the
// object, all in one round trip. An empty object, which has no byte to
// range over, is asked for with HeadObject.
func (o *Origin) Get(ctx context.Context, key string, n int64) (origin.Info, io.ReadCloser, error) {
	if err := origin.CheckKey(key); err != nil {
		return origin.Info{}, nil, err
	}
	if n <= 0 {
		return origin.Info{}, nil, fmt.Errorf("s3 origin: get %s: length %d is not positive", key, n)
	}
	wctx, w := origin.NewWatchdog(ctx, o.timeout)
	out, err := o.client.GetObject(wctx, &awss3.GetObjectInput{
		Bucket: aws.String(o.bucket),
		Key:    aws.String(o.prefix + key),
		Range:  aws.String(fmt.Sprintf("bytes=0-%d", n-1)),
	})
	if err != nil {
		// The cause first: Stop cancels wctx, after which every error
		// would read as a cancellation.
		err := cause(wctx, err)
		w.Stop()
		switch status(err) {
		case http.StatusNotFound:
			return origin.Info{}, nil, fmt.Errorf("s3 origin: get %s: %w", key, fs.ErrNotExist)
		case http.StatusRequestedRangeNotSatisfiable:
			info, err := o.Stat(ctx, key)
			if err == nil && info.Size != 0 {
				err = fmt.Errorf("s3 origin: get %s: range not satisfiable for %d bytes: %w", key, info.Size, origin.ErrChanged)
			}
			if err != nil {
				return origin.Info{}, nil, err
			}
			return info, http.NoBody, nil
		}
		return origin.Info{}, nil, fmt.Errorf("s3 origin: get %s: %w", key, err)
	}
	body := w.Body(wctx, out.Body)
	size, err := totalSize(out.ContentRange, out.ContentLength)
	if err != nil {
		body.Close()
		return origin.Info{}, nil, fmt.Errorf("s3 origin: get %s: %w", key, err)
	}
	return newInfo(key, size, headers{out.ETag, out.ContentType, out.CacheControl, out.ExpiresString, out.LastModified}), body, nil
}

// totalSize reads an object's size from a ranged GET's Content-Range
// ("bytes 0-99/1234"), or from Content-Length when the store sent the
// whole object (200, no Content-Range).
func totalSize(contentRange *string, contentLength *int64) (int64, error) {
	if contentRange == nil {
		if contentLength == nil || *contentLength < 0 {
			return 0, errors.New("no Content-Range or Content-Length")
		}
		return *contentLength, nil
	}
	first, _, size, ok := origin.ParseContentRange(*contentRange)
	if !ok || first != 0 || size < 0 {
		return 0, fmt.Errorf("malformed Content-Range %.64q", *contentRange)
	}
	return size, nil
}

// Open sends GetObject for the range with If-Match set to info.ETag. A
// failed precondition or a missing key gives an error matching
// origin.ErrChanged. The body streams from S3 as the caller reads.
func (o *Origin) Open(ctx context.Context, info origin.Info, off, n int64) (io.ReadCloser, error) {
	n, err := origin.CheckOpen(ctx, info, off, n)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return http.NoBody, nil
	}
	in := &awss3.GetObjectInput{
		Bucket: aws.String(o.bucket),
		Key:    aws.String(o.prefix + info.Key),
	}
	if off != 0 || n != info.Size {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1))
	}
	if info.ETag != "" {
		in.IfMatch = aws.String(info.ETag)
	}
	ctx, w := origin.NewWatchdog(ctx, o.timeout)
	out, err := o.client.GetObject(ctx, in)
	if err != nil {
		err := cause(ctx, err) // before Stop, as in Get
		w.Stop()
		switch s := status(err); s {
		case http.StatusPreconditionFailed, http.StatusNotFound, http.StatusRequestedRangeNotSatisfiable:
			return nil, fmt.Errorf("s3 origin: get %s: status %d: %w", info.Key, s, origin.ErrChanged)
		}
		return nil, fmt.Errorf("s3 origin: get %s: %w", info.Key, err)
	}
	body := w.Body(ctx, out.Body)
	// Without an ETag to make the request conditional, the size is the
	// only sign of another version.
	if info.ETag == "" && out.ContentRange != nil && !strings.HasSuffix(*out.ContentRange, fmt.Sprintf("/%d", info.Size)) ||
		info.ETag != "" && out.ETag != nil && *out.ETag != info.ETag {
		body.Close()
		return nil, fmt.Errorf("s3 origin: get %s: %w", info.Key, origin.ErrChanged)
	}
	return body, nil
}

// Presign returns a GET URL for the object info names, valid for ttl (at
// most MaxPresignTTL, and no longer than temporary credentials last). It
// cannot pin the version: a URL carries no If-Match, so the reader gets
// whatever the key holds then. The URL is a credential: never log it.
func (o *Origin) Presign(ctx context.Context, info origin.Info, ttl time.Duration) (string, error) {
	if err := origin.CheckKey(info.Key); err != nil {
		return "", err
	}
	if ttl <= 0 {
		return "", fmt.Errorf("s3 origin: presign %s: lifetime %v is not positive", info.Key, ttl)
	}
	ttl = min(ttl, MaxPresignTTL)
	req, err := o.presign.PresignGetObject(ctx, &awss3.GetObjectInput{
		Bucket: aws.String(o.bucket),
		Key:    aws.String(o.prefix + info.Key),
	}, awss3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("s3 origin: presign %s: %w", info.Key, err)
	}
	return req.URL, nil
}

// status returns the HTTP status of a failed S3 call, or 0.
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// cause returns the error of a call made under ctx, a watchdog's context:
// the reason ctx ended if it did (the caller's cancellation, or the
// watchdog's timeout, which matches origin.ErrUnreachable), else err,
// marked origin.ErrUnreachable when S3 sent no response. Call it before
// the watchdog's Stop, which ends ctx too.
func cause(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if status(err) == 0 {
		return fmt.Errorf("%w: %w", origin.ErrUnreachable, err)
	}
	return err
}
