// Command signet-lambda is signet's signing API as an AWS Lambda function
// for the provided.al2023 runtime. It reads its configuration from the
// environment and builds the key source once per cold start; the work
// happens in package lambdafn, and main only adapts the OS.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/signet-dev/signet/internal/lambdafn"
	"github.com/signet-dev/signet/internal/version"
)

func main() {
	logger := lambdafn.NewLogger(os.Stderr, os.Getenv)
	v := version.Get()
	logger.Info("cold start", "version", v.Version, "revision", v.Revision, "modified", v.Modified, "go", v.Go)
	cfg, err := lambdafn.ConfigFromEnv(context.Background(), os.Getenv, logger)
	var h *lambdafn.Handler
	if err == nil {
		h, err = lambdafn.New(cfg)
	}
	if err != nil {
		// Exiting fails the init phase; Lambda reports it and retries.
		logger.Error("cold start failed", "reason", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}
