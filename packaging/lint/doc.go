// Package lint checks the repository's Dockerfile without a Docker engine:
// with BuildKit's own Dockerfile parser and linter (the rules `docker
// build --check` applies), and against signet's own rules for the image.
// It is a module of its own so that BuildKit stays out of signet's
// dependencies; `make test` runs it.
package lint
