package config

import (
	"fmt"
	"slices"

	"github.com/signet-dev/signet/internal/cfsign"
)

// Warnings lists what in c is allowed but probably not meant, for a config
// that passes Validate:
// secrets written into the file, the debug header, a distribution without
// a final "*" behavior, unused key groups, a weak inline key, and an HTTPS
// redirect with no HTTPS listener.
func (c *Config) Warnings() []*Problem {
	var out []*Problem
	warn := func(path, format string, args ...any) {
		out = append(out, &Problem{Line: c.lineOf(path), Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	out = append(out, c.inlineSecrets...)
	if c.DebugReasonHeader {
		warn("debug_reason_header", "refusals carry their private reason in X-Signet-Reason: for development only")
	}
	https, redirect := false, -1
	for i, l := range c.Listeners {
		if l.TLS != nil || l.ACME != nil {
			https = true
		}
		if l.RedirectToHTTPS && redirect < 0 {
			redirect = i
		}
	}
	if redirect >= 0 && !https {
		warn(fmt.Sprintf("listeners[%d].redirect_to_https", redirect), "no listener serves HTTPS (tls or acme); fine only if something in front of signet does")
	}
	used := map[string]bool{}
	for i, d := range c.Distributions {
		if n := len(d.Behaviors); n > 0 && d.Behaviors[n-1].Path != "*" {
			warn(fmt.Sprintf("distributions[%d].behaviors", i), "no \"*\" behavior last: requests for paths no behavior matches are refused; end with one to decide what they get")
		}
		for _, b := range d.Behaviors {
			for _, g := range b.KeyGroups {
				used[g] = true
			}
		}
	}
	for _, name := range c.groupNames() {
		p := mapPath("key_groups", name)
		if !used[name] {
			warn(p, "no behavior uses this key group")
		}
		for i, k := range c.KeyGroups[name] {
			if k.PEM == "" {
				continue
			}
			if pub, msg := parsePublicKey([]byte(k.PEM)); msg == "" {
				if w := cfsign.KeyWarning(pub); w != "" {
					warn(fmt.Sprintf("%s[%d].public_key", p, i), "%s", w)
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b *Problem) int { return a.Line - b.Line })
	return out
}
