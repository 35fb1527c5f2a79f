# signet's two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)

GO ?= go
FUZZTIME ?= 10
# staticcheck at a pinned version, built from the Go module proxy on first
# use and cached by the go command.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

.PHONY: run demo test build deps check vectors fuzz bench bench-edge clean

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
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./...
	scripts/fuzz.sh $(FUZZTIME)

build:
	$(GO) build -trimpath -o bin/signet ./cmd/signet

## deps: install the reference signers and tools the tests need (idempotent)
deps:
	scripts/install-test-deps.sh

## check: formatting, vet, staticcheck (pinned) and module tidiness
check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	cd bench/crypto && $(STATICCHECK) ./...
	$(GO) mod tidy -diff
	cd bench/crypto && $(GO) mod tidy -diff

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
