package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size is a number of bytes written with an optional binary unit: "512",
// "64KiB", "256MiB", "10GiB", "1TiB" (B, KiB, MiB, GiB and TiB; KB, MB,
// GB and TB are read as the same powers of 1024, since a cache bound is
// what is meant). Convert with int64(s).
type Size int64

var sizeUnits = []struct {
	suffix string
	shift  uint
}{
	{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10},
	{"TB", 40}, {"GB", 30}, {"MB", 20}, {"KB", 10},
	{"B", 0},
}

// ParseSize reads a Size: digits, then an optional unit, with no space or
// sign. "0" is zero.
func ParseSize(s string) (Size, error) {
	bad := fmt.Errorf("%q is not a size such as 4096, 64MiB or 10GiB", s)
	num, shift := s, uint(0)
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, shift = n, u.shift
			break
		}
	}
	if num == "" || num[0] < '0' || num[0] > '9' {
		return 0, bad
	}
	n, err := strconv.ParseUint(num, 10, 63)
	if err != nil {
		return 0, bad
	}
	if n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return Size(n << shift), nil
}

// String formats s with the largest binary unit that divides it: "64MiB",
// "1536KiB", "100".
func (s Size) String() string {
	if s != 0 {
		for _, u := range sizeUnits[:4] {
			if s%(1<<u.shift) == 0 {
				return strconv.FormatInt(int64(s)>>u.shift, 10) + u.suffix
			}
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// MarshalText is String, so a Size encodes as it decodes.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText is ParseSize.
func (s *Size) UnmarshalText(b []byte) error { return unmarshalText(s, b, ParseSize) }
