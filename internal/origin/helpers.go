package origin

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
)

// CheckKey reports whether key is a name every origin may look up: valid
// UTF-8, slash-separated, with no empty, "." or ".." element, no leading or
// trailing '/', no NUL and no backslash. A refused key gives an error
// matching ErrInvalidKey. Origins call it first, so no key can name
// anything outside their root, whatever the edge let through.
func CheckKey(key string) error {
	if key == "." || !fs.ValidPath(key) || strings.ContainsAny(key, "\x00\\") {
		return fmt.Errorf("%w %q", ErrInvalidKey, key)
	}
	return nil
}

// Span returns how many bytes Open(info, off, n) reads from an object of
// size bytes: n, or the rest of the object when n < 0 or off+n passes its
// end. An offset before the start or past the end is an error; an offset
// at the end reads nothing.
func Span(size, off, n int64) (int64, error) {
	if off < 0 || off > size {
		return 0, fmt.Errorf("origin: offset %d outside object of %d bytes", off, size)
	}
	if rest := size - off; n < 0 || n > rest {
		return rest, nil
	}
	return n, nil
}

// CheckOpen does the checks every Open starts with: ctx not done, a valid
// key, an offset inside the object. It returns how many bytes to read, as
// Span does.
func CheckOpen(ctx context.Context, info Info, off, n int64) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := CheckKey(info.Key); err != nil {
		return 0, err
	}
	return Span(info.Size, off, n)
}

// StrongETag returns etag if it is a quoted strong entity tag, such as
// `"abc"`, and "" for a weak one (W/"abc"), a malformed one or none: only a
// strong validator can make a range request conditional, and Info.ETag
// holds nothing else.
func StrongETag(etag string) string {
	if len(etag) < 2 || etag[0] != '"' || etag[len(etag)-1] != '"' || strings.Contains(etag[1:len(etag)-1], `"`) {
		return ""
	}
	return etag
}
