package nethttp_test

import (
	"net/http/httptest"
	"testing"

	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/edgetest"
	"github.com/signet-dev/signet/internal/edge/nethttp"
)

func TestSuite(t *testing.T) {
	edgetest.Run(t, func(t *testing.T, e *edge.Edge) string {
		srv := httptest.NewServer(nethttp.NewHandler(e, nethttp.Options{}))
		t.Cleanup(srv.Close)
		return srv.URL
	})
}
