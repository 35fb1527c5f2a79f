package keysource

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
)

// awsSettings are the fields every AWS source's config has.
type awsSettings struct {
	region, endpoint string
	creds            aws.CredentialsProvider
	timeout          time.Duration
}

// loadAWS does what the AWS sources share once they have checked their own
// fields (problems holds what those checks found): it checks s, reports
// every problem at once behind "keysource: what: ", and builds the SDK
// configuration, returning the timeout of one call (DefaultAWSTimeout when
// s.timeout is 0). The configuration is the standard chain (environment,
// shared config and credentials files, container and instance roles,
// including AWS_ENDPOINT_URL and its per-service forms), overridden by an
// explicit region and credentials provider when given. A non-empty
// endpoint overrides the service's URL (BaseEndpoint), as for moto or a
// VPC endpoint.
func loadAWS(ctx context.Context, what string, s awsSettings, problems ...error) (aws.Config, time.Duration, error) {
	if s.timeout < 0 {
		problems = append(problems, fmt.Errorf("timeout: %v is negative", s.timeout))
	}
	if err := errors.Join(problems...); err != nil {
		return aws.Config{}, 0, fmt.Errorf("keysource: %s: %w", what, err)
	}
	if s.timeout == 0 {
		s.timeout = DefaultAWSTimeout
	}
	opts := []func(*config.LoadOptions) error{
		// The SDK's own logger writes to stderr; keysource logs what matters.
		config.WithLogger(logging.Nop{}),
	}
	if s.region != "" {
		opts = append(opts, config.WithRegion(s.region))
	}
	if s.creds != nil {
		opts = append(opts, config.WithCredentialsProvider(s.creds))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, 0, fmt.Errorf("keysource: %s: aws config: %w", what, err)
	}
	if s.endpoint != "" {
		cfg.BaseEndpoint = aws.String(s.endpoint)
	}
	if cfg.Region == "" {
		if cfg.BaseEndpoint == nil {
			return aws.Config{}, 0, fmt.Errorf("keysource: %s: region: required (set it, or AWS_REGION)", what)
		}
		// An emulator reached through an endpoint override does not care.
		cfg.Region = "us-east-1"
	}
	return cfg, s.timeout, nil
}
