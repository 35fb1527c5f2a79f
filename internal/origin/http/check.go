package http

import (
	"fmt"
	nethttp "net/http"
	"strconv"
	"strings"
)

// CheckSecretHeader reports whether name can be Config.SecretHeader: ""
// (none), or a header name (an RFC 9110 token) other than those the
// origin sets itself or the transport owns, such as Host, Range and the
// If-* headers. The config file's secret_header is checked with it too.
// The error says why, without a package prefix.
func CheckSecretHeader(name string) error {
	h := nethttp.CanonicalHeaderKey(name)
	switch {
	case name != "" && !isToken(name):
		return fmt.Errorf("%s is not a header name", strconv.Quote(name))
	case reserved[h] || strings.HasPrefix(h, "If-"):
		return fmt.Errorf("%s is a header the origin sets itself", h)
	}
	return nil
}
