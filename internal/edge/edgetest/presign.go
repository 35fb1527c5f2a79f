// Package edgetest holds what the edge's tests share: a presigner for
// redirect mode, test keys, and the suite every adapter of the edge must
// pass (Run), since adapters hold no policy and a behavior difference
// between them is a bug. Their in-memory origin is origintest.Mem. It is
// imported only by tests.
package edgetest

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/signet-dev/signet/internal/origin"
)

// Presigner presigns the objects of Origin, for redirect mode. Its URLs
// are Base, the escaped key, and the lifetime in seconds as "?ttl=".
type Presigner struct {
	Origin origin.Origin
	Base   string
}

var _ origin.Presigner = Presigner{}

// Presign returns the URL of info's object, which Origin must have.
func (p Presigner) Presign(ctx context.Context, info origin.Info, ttl time.Duration) (string, error) {
	if _, err := p.Origin.Stat(ctx, info.Key); err != nil {
		return "", err
	}
	if ttl <= 0 {
		return "", errors.New("edgetest: presign ttl must be positive")
	}
	return p.Base + (&url.URL{Path: info.Key}).EscapedPath() + "?ttl=" + strconv.Itoa(int(ttl/time.Second)), nil
}
