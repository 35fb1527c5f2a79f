package config_test

import (
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/config"
)

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
		str  string // String() of the result
	}{
		{"0", 0, "0s"},
		{"0s", 0, "0s"},
		{"90s", 90 * time.Second, "1m30s"},
		{"1h30m", 90 * time.Minute, "1h30m0s"},
		{"250ms", 250 * time.Millisecond, "250ms"},
		{"30d", 30 * day, "30d"},
		{"1d12h", day + 12*time.Hour, "1d12h0m0s"},
		{"0d", 0, "0s"},
		{"-1s", -time.Second, "-1s"},
		{"-2d", -2 * day, "-2d"},
		{"-1d1s", -(day + time.Second), "-1d1s"},
		{"106751d", 106751 * day, "106751d"},
	} {
		got, err := config.ParseDuration(tc.in)
		if err != nil || time.Duration(got) != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, time.Duration(got), err, tc.want)
			continue
		}
		if s := got.String(); s != tc.str {
			t.Errorf("ParseDuration(%q).String() = %q; want %q", tc.in, s, tc.str)
		}
		back, err := config.ParseDuration(got.String())
		if err != nil || back != got {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v (round trip of %q)", got.String(), back, err, got, tc.in)
		}
	}
}

func TestParseDurationRefuses(t *testing.T) {
	for _, in := range []string{"", "-", "30", "d", "1.5d", "1d-1h", "1d+1h", "--1s", "+1s", "5h1d", "1 d", "1w", "1y", "106752d", "106751d24h"} {
		if got, err := config.ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, nil; want an error", in, got)
		}
	}
}

func TestDurationText(t *testing.T) {
	var d config.Duration
	if err := d.UnmarshalText([]byte("2d")); err != nil || d != config.Duration(48*time.Hour) {
		t.Errorf("UnmarshalText(2d) = %v, %v; want 48h", time.Duration(d), err)
	}
	if b, err := d.MarshalText(); err != nil || string(b) != "2d" {
		t.Errorf("MarshalText() = %q, %v; want 2d", b, err)
	}
	if err := d.UnmarshalText([]byte("soon")); err == nil || d != config.Duration(48*time.Hour) {
		t.Errorf("UnmarshalText(soon) = %v, leaving %v; want an error, leaving 48h", err, time.Duration(d))
	}
}
