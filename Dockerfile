# syntax=docker/dockerfile:1
# signet's container image: `signet serve` as a non-root user in a
# distroless static image (CA certificates, time zones, no shell). Build,
# stamping the version the binary reports:
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t signet .
#
# Run it with a config that listens on :8080 and keeps data_dir in the
# volume (docs/operations.md, "Container"):
#
#   docker run -p 8080:8080 -v "$PWD/etc:/etc/signet:ro" -v signet-data:/var/lib/signet signet
#
# packaging/lint checks this file with BuildKit's own parser and linter.

# The Go release the image is built with; at least go.mod's.
ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG TARGETOS TARGETARCH
ARG VERSION=""
# Static, stripped and without build paths, as `make release` builds.
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w -X github.com/signet-dev/signet/internal/version.stamp=${VERSION}" \
    -o /out/signet ./cmd/signet
# The data directory, owned by the image's non-root user (65532).
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/signet /usr/local/bin/signet
COPY --from=build --chown=65532:65532 /out/data /var/lib/signet
USER 65532:65532
WORKDIR /var/lib/signet
VOLUME ["/var/lib/signet"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/signet"]
CMD ["serve", "--config", "/etc/signet/signet.yaml"]
