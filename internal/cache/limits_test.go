package cache_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cache"
)

func TestCheckChunkSize(t *testing.T) {
	for _, tc := range []struct {
		n  int64
		ok bool
	}{
		{cache.MinChunkSize, true},
		{cache.DefaultChunkSize, true},
		{cache.MaxChunkSize, true},
		{cache.MinChunkSize - 1, false},
		{cache.MaxChunkSize + 1, false},
		{0, false},
	} {
		err := cache.CheckChunkSize(tc.n)
		if (err == nil) != tc.ok || err != nil && err.Error() != "outside 4KiB to 64MiB" {
			t.Errorf("CheckChunkSize(%d) = %v; want ok %v (or \"outside 4KiB to 64MiB\")", tc.n, err, tc.ok)
		}
	}
}

func TestTTLCheck(t *testing.T) {
	const h = time.Hour
	for _, tc := range []struct {
		ttl  cache.TTL
		want []string
	}{
		{cache.TTL{}, nil},
		{cache.TTL{Min: h, Default: h, Max: h}, nil},
		{cache.TTL{Default: 24 * h, Max: 365 * 24 * h}, nil},
		{cache.TTL{Min: 2 * h, Default: h, Max: 3 * h}, []string{"Min 2h0m0s is more than Default 1h0m0s"}},
		{cache.TTL{Default: 2 * h, Max: h}, []string{"Default 2h0m0s is more than Max 1h0m0s"}},
		{cache.TTL{Default: h}, []string{"Default 1h0m0s is more than Max 0s"}},
		{cache.TTL{Min: 2 * h, Default: h, Max: 0}, []string{"Min 2h0m0s is more than Default 1h0m0s"}},
		{cache.TTL{Min: -1, Default: -2, Max: -3}, []string{"Default -2ns is negative", "Min -1ns is negative", "Max -3ns is negative", "Min -1ns is more than Default -2ns"}},
	} {
		var got []string
		if j, ok := tc.ttl.Check().(interface{ Unwrap() []error }); ok {
			for _, err := range j.Unwrap() {
				var e *cache.TTLError
				if !errors.As(err, &e) {
					t.Errorf("%+v.Check() holds %v, not a *TTLError", tc.ttl, err)
				}
				got = append(got, err.Error())
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%+v.Check() = %q; want %q", tc.ttl, got, tc.want)
		}
	}
}
