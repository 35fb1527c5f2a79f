package origintest_test

import (
	"testing"

	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/origintest"
)

// TestMem runs the contract suite against the in-memory origin the other
// packages' tests read through.
func TestMem(t *testing.T) {
	origintest.Run(t, func(t *testing.T) (origin.Origin, origintest.Fixture) {
		m := origintest.NewMem()
		return m, m
	})
}
