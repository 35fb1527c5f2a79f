package keysource

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
)

// loadAWS builds the SDK configuration the AWS sources share: the standard
// chain (environment, shared config and credentials files, container and
// instance roles, including AWS_ENDPOINT_URL and its per-service forms),
// overridden by an explicit region and credentials provider when given.
// A non-empty endpoint overrides the service's URL (BaseEndpoint), as for
// moto or a VPC endpoint.
func loadAWS(ctx context.Context, region, endpoint string, creds aws.CredentialsProvider) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		// The SDK's own logger writes to stderr; keysource logs what matters.
		config.WithLogger(logging.Nop{}),
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if creds != nil {
		opts = append(opts, config.WithCredentialsProvider(creds))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	if cfg.Region == "" {
		if cfg.BaseEndpoint == nil {
			return aws.Config{}, errors.New("region: required (set it, or AWS_REGION)")
		}
		// An emulator reached through an endpoint override does not care.
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}
