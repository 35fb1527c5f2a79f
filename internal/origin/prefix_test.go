package origin_test

import (
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/origin"
)

func TestPrefix(t *testing.T) {
	for _, tc := range []struct {
		p, want string // want is the prefix, or text of the error
		ok      bool
	}{
		{"", "", true},
		{"media", "media/", true},
		{"media/", "media/", true},
		{"media//", "media/", true},
		{"a b/c+d", "a b/c+d/", true},
		{"ünï/日本/", "ünï/日本/", true},
		{"/media/", `object keys do not start with '/': write "media/"`, false},
		{"/", `object keys do not start with '/': write ""`, false},
		{"media/../x", `"media/../x" holds a ".." segment`, false},
		{"./a/", `"./a/" holds a "." segment`, false},
		{"a\\b", `"a\\b" holds a backslash or NUL`, false},
		{"a\x00", `"a\x00" holds a backslash or NUL`, false},
		{"media//x/", `"media//x/" holds an empty segment ("//")`, false},
		{"a\xff/", `"a\xff/" is not valid UTF-8`, false},
	} {
		got, err := origin.Prefix(tc.p)
		switch {
		case tc.ok && (err != nil || got != tc.want):
			t.Errorf("Prefix(%q) = %q, %v; want %q", tc.p, got, err, tc.want)
		case !tc.ok && (err == nil || err.Error() != tc.want):
			t.Errorf("Prefix(%q) = %q, %v; want the error %q", tc.p, got, err, tc.want)
		}
		if err == nil && tc.p != "" {
			// Every valid key after the prefix makes a valid key.
			for _, key := range []string{"a", "a/b.txt", ".hidden"} {
				if err := origin.CheckKey(got + key); err != nil {
					t.Errorf("CheckKey(Prefix(%q) + %q) = %v; want nil", tc.p, key, err)
				}
			}
			if !strings.HasSuffix(got, "/") {
				t.Errorf("Prefix(%q) = %q; want it to end in '/'", tc.p, got)
			}
		}
	}
}
