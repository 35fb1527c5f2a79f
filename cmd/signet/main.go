// Command signet is a self-hosted, CloudFront-compatible signed-URL system.
// All the work happens in package cli; main only adapts the OS.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/signet-dev/signet/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
