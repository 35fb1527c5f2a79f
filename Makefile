# signet's two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)

GO ?= go
FUZZTIME ?= 10
# staticcheck at a pinned version, built from the Go module proxy on first
# use and cached by the go command.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# VERSION is what the binaries report: `git describe` of the checkout (a
# tag, or the commit), or what you pass: make release VERSION=v1.2.0.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
# VERSION_VAR is the string variable `go build -ldflags -X` sets to VERSION
# (internal/version reports it; the Dockerfile sets the same one).
VERSION_VAR := github.com/signet-dev/signet/internal/version.stamp
# make install copies bin/signet to $(DESTDIR)$(PREFIX)/bin.
PREFIX ?= /usr/local
DESTDIR ?=
# make release builds signet and signet-lambda for each of these.
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64

.PHONY: run demo test build install release deps check vectors fuzz bench bench-edge clean

## run: the zero-config edge: keys and a files directory in ./signet-data,
## served on 127.0.0.1:8080; prints a working signed link (Ctrl-C stops it)
run: build
	bin/signet serve

## demo: the offline CLI walk-through: keygen, sign, verify, explain, a refusal
demo: build
	@scripts/demo.sh bin/signet

## test: install every test dependency, then run all checks and tests
test: deps check
	$(GO) test -race -count=1 ./...
	cd bench/crypto && $(GO) vet ./... && $(GO) test -count=1 ./...
	cd packaging/lint && $(GO) vet ./... && $(GO) test -count=1 ./...
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./...
	scripts/fuzz_test.sh
	scripts/fuzz.sh $(FUZZTIME)

build:
	$(GO) build -trimpath -ldflags "-X $(VERSION_VAR)=$(VERSION)" -o bin/signet ./cmd/signet

## install: build, then copy bin/signet to $(DESTDIR)$(PREFIX)/bin (default
## /usr/local/bin; see docs/operations.md, "Install")
install: build
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 bin/signet "$(DESTDIR)$(PREFIX)/bin/signet"

## release: for each of RELEASE_PLATFORMS, static (CGO_ENABLED=0), stripped,
## -trimpath binaries stamped with VERSION in bin/release/: signet-OS-ARCH
## and signet-lambda-OS-ARCH (the Lambda function's bootstrap), and SHA256SUMS
release:
	rm -rf bin/release
	mkdir -p bin/release
	set -e; for p in $(RELEASE_PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "-s -w -X $(VERSION_VAR)=$(VERSION)" \
	    -o bin/release/signet-$$os-$$arch ./cmd/signet; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -tags lambda.norpc -ldflags "-s -w -X $(VERSION_VAR)=$(VERSION)" \
	    -o bin/release/signet-lambda-$$os-$$arch ./cmd/signet-lambda; \
	done
	cd bin/release && sha256sum signet-* > SHA256SUMS

## deps: install the reference signers and tools the tests need (idempotent)
deps:
	scripts/install-test-deps.sh

## check: formatting, vet, staticcheck (pinned) and module tidiness
check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	cd bench/crypto && $(STATICCHECK) ./...
	cd packaging/lint && $(STATICCHECK) ./...
	$(GO) mod tidy -diff
	cd bench/crypto && $(GO) mod tidy -diff
	cd packaging/lint && $(GO) mod tidy -diff

## vectors: regenerate the golden interop vectors from the live reference signers
vectors: deps
	$(GO) test -count=1 -run 'TestInteropLive' ./internal/cfsign -update -v

## fuzz: run every fuzz target for FUZZTIME seconds
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

## bench: go benchmarks for cfsign, then signet vs openssl speed
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/cfsign
	bench/crypto/run.sh

## bench-edge: signet (both adapters) against tuned nginx with secure_link_md5
## under wrk, in one run, with ratios (installs nginx and wrk; about 5
## minutes; ARGS=--quick for a short check)
bench-edge:
	bench/edge/run.sh $(ARGS)

clean:
	rm -rf bin
