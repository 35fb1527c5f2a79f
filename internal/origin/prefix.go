package origin

import (
	"fmt"
	"strconv"
	"strings"
)

// Prefix checks p, a prefix put in front of object keys (an S3 origin's
// prefix, a behavior's origin path), and returns it as it is used: ending
// in one '/' ("media", "media/" and "media//" all give "media/"), or ""
// for "". A valid key after it makes a valid key (CheckKey), so a prefix
// cannot lead out of itself. p is refused when it starts with '/' or when,
// without its trailing '/', it is not a valid key: an empty, "." or ".."
// segment, a backslash, a NUL or invalid UTF-8. The error says why,
// quoting p, in words for the config file; it has no package prefix.
func Prefix(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	if strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("object keys do not start with '/': write %s", strconv.Quote(strings.TrimLeft(p, "/")))
	}
	key := strings.TrimRight(p, "/")
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "." || seg == ".." {
			return "", fmt.Errorf("%s holds a %s segment", strconv.Quote(p), strconv.Quote(seg))
		}
	}
	switch {
	case strings.ContainsAny(key, "\\\x00"):
		return "", fmt.Errorf("%s holds a backslash or NUL", strconv.Quote(p))
	case strings.Contains(key, "//"):
		return "", fmt.Errorf("%s holds an empty segment (\"//\")", strconv.Quote(p))
	case CheckKey(key) != nil:
		return "", fmt.Errorf("%s is not valid UTF-8", strconv.Quote(p))
	}
	return key + "/", nil
}
