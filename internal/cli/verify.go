package cli

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

var verifyPage = &page{
	summary: "check a signed URL or cookies against public keys",
	usage:   []string{"verify --pubkey ID=FILE [--pubkey ...] [flags] URL"},
	about: `Checks a signed URL, or signed cookies sent with URL, as signet serve (and
CloudFront) would, trusting the given public keys. Prints the verdict on
stdout: when valid, the decoded policy; when refused, CloudFront's public code
(such as AccessDenied) and the private reason. The signature and the raw
Policy value are never printed.`,
	operand: "URL",
	examples: []string{
		`verify --pubkey K2JCJMDEHXQW5F=keys/public_key.pem "$URL"`,
		"verify --pubkey keys/public_key.pem \\\n    --cookie 'CloudFront-Policy=...; CloudFront-Signature=...; CloudFront-Key-Pair-Id=...' \\\n    https://media.example.com/videos/x/index.m3u8",
	},
	exit: "0 valid; 1 refused; 2 usage error or bad input.",
}

// VerifyCommand is "signet verify": it checks a signed URL or cookies
// against public keys.
type VerifyCommand struct {
	Env
}

// verifyOutput is the --json form of verify's verdict.
type verifyOutput struct {
	Valid     bool            `json:"valid"`
	Code      string          `json:"code,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	KeyID     string          `json:"key_id,omitempty"`
	Mode      string          `json:"mode"`
	Hash      string          `json:"hash,omitempty"`
	ExpiresAt jsonTime        `json:"expires_at,omitzero"`
	Policy    json.RawMessage `json:"policy,omitempty"`
}

// Run verifies.
func (c *VerifyCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("verify")
	var pubkeys listFlag
	fs.Var(&pubkeys, "pubkey", "trust the PEM public key in FILE under key id ID, given as `ID=FILE` (repeatable); a bare FILE uses the id keygen derives")
	var rf requestFlags
	rf.register(fs)
	var skew time.Duration
	fs.Func("skew", "allow this much clock skew `DURATION` (default 0, as CloudFront)", func(s string) error {
		d, err := parseDuration(s)
		if err == nil && d < 0 {
			err = fmt.Errorf("%q is negative", s)
		}
		skew = d
		return err
	})
	asJSON := fs.Bool("json", false, `print {"valid", "code", "reason", "key_id", "mode", "hash", "expires_at", "policy"}`)
	rawURL, err := parseURLArg(fs, verifyPage, &c.Env, args)
	if err != nil {
		return err
	}
	if len(pubkeys) == 0 {
		return errors.New("at least one --pubkey ID=FILE is required (see 'signet verify -h')")
	}
	keys, err := c.readPublicKeys(pubkeys)
	if err != nil {
		return err
	}
	req, at, err := rf.request(rawURL, &c.Env)
	if err != nil {
		return err
	}
	v, err := cfsign.NewVerifier(keys, cfsign.Options{Skew: skew, Now: func() time.Time { return at }})
	if err != nil {
		return err
	}

	res, verr := v.Verify(req)
	out := verifyOutput{Valid: verr == nil, KeyID: res.KeyID, Mode: res.Mode.String()}
	if verr != nil {
		out.Code = cfsign.CodeOf(verr).String()
		out.Reason = reasonText(verr)
	}
	_, query := cfsign.SplitTarget(req.Target)
	out.Hash = hashName(cfsign.ParseCredentials(query, req.Cookies))
	// The policy is shown only once the signature over it has verified.
	if res.Policy != nil && json.Valid(res.PolicyBytes) {
		out.Policy = res.PolicyBytes
	}
	if res.Policy != nil {
		out.ExpiresAt = jsonTime(res.Policy.ExpiresTime())
	}

	if *asJSON {
		err = writeJSON(c.Stdout, out)
	} else {
		err = printVerdict(c.Stdout, out, res, verr, at)
	}
	if err == nil && verr != nil {
		err = errVerdict
	}
	return err
}

// reasonText is a refusal's private reason for the one who holds the link:
// with the policy's own values (which logs never carry), without internal
// package prefixes.
func reasonText(err error) string {
	if ce, ok := errors.AsType[*cfsign.Error](err); ok {
		return userText(ce.Verbose())
	}
	return userText(err.Error())
}

// readPublicKeys reads the --pubkey ID=FILE (or bare FILE) arguments.
func (c *VerifyCommand) readPublicKeys(specs []string) (map[string]crypto.PublicKey, error) {
	keys := make(map[string]crypto.PublicKey, len(specs))
	for _, spec := range specs {
		id, file, ok := strings.Cut(spec, "=")
		if !ok {
			id, file = "", spec
		}
		pub, err := readKey(file, "public key", cfsign.ParsePublicKey)
		if err != nil {
			return nil, err
		}
		if id == "" {
			if id, err = cfsign.KeyID(pub); err != nil {
				return nil, err
			}
		}
		if err := cfsign.CheckKeyID(id); err != nil {
			return nil, fmt.Errorf("--pubkey ID=%s: %w", file, err) // never the id: it may be a pasted key
		}
		if _, dup := keys[id]; dup {
			return nil, fmt.Errorf("--pubkey: key id %s given twice", id)
		}
		if w := cfsign.KeyWarning(pub); w != "" {
			c.warnf("%s: %s", file, w)
		}
		keys[id] = pub
	}
	return keys, nil
}

// requestFlags are the flags verify and explain share to describe a viewer
// request: --cookie, --at and --client-ip.
type requestFlags struct {
	cookies  listFlag
	at       time.Time
	clientIP string
}

func (rf *requestFlags) register(fs *flagSet) {
	fs.Var(&rf.cookies, "cookie", "a Cookie `HEADER` value with CloudFront-* cookies (repeatable; a pasted \"Cookie:\" prefix is ignored)")
	fs.Func("at", "judge the request as of `TIME`: RFC 3339 or Unix seconds (default now)", timeFlag(&rf.at))
	fs.StringVar(&rf.clientIP, "client-ip", "", "the viewer's `IP` address, for policies with an IP range")
}

// request builds the facts of a viewer request for rawURL: scheme, host and
// the raw target sliced from the string (§4.1), plus the cookies and the
// client address. It also returns the time to judge it at: --at, or now.
func (rf *requestFlags) request(rawURL string, env *Env) (*cfsign.Request, time.Time, error) {
	scheme, host, target, err := splitURL(rawURL)
	if err != nil {
		return nil, time.Time{}, err
	}
	req := &cfsign.Request{Scheme: scheme, Host: host, Target: target}
	for _, h := range rf.cookies {
		req.Cookies = append(req.Cookies, cookieHeader(h))
	}
	if rf.clientIP != "" {
		if req.ClientIP, err = netip.ParseAddr(rf.clientIP); err != nil {
			return nil, time.Time{}, fmt.Errorf("--client-ip %q is not an IP address", rf.clientIP)
		}
	}
	at := rf.at
	if at.IsZero() {
		at = env.now()
	}
	return req, at, nil
}

// hashName is the hash a request asks for: "SHA1" when Hash-Algorithm is
// absent, its value when it is SHA1 or SHA256, and "" otherwise.
func hashName(c cfsign.Credentials) string {
	switch {
	case c.Mode == cfsign.ModeNone:
		return ""
	case !c.HasHashAlg:
		return cfsign.SHA1.String()
	case c.HashAlg == "SHA1" || c.HashAlg == "SHA256":
		return c.HashAlg
	}
	return ""
}

// printVerdict writes verify's text output.
func printVerdict(w io.Writer, out verifyOutput, res cfsign.Result, verr error, now time.Time) error {
	var b strings.Builder
	if verr == nil {
		b.WriteString("valid: the signature verifies and the policy allows this request\n")
	} else {
		code := cfsign.CodeOf(verr)
		fmt.Fprintf(&b, "refused: %s (%s)\n", code, code.Message())
		field(&b, "reason", out.Reason)
	}
	field(&b, "mode", out.Mode)
	if out.KeyID != "" {
		field(&b, "key id", out.KeyID)
	}
	if out.Hash != "" {
		field(&b, "hash", out.Hash)
	}
	if res.Policy != nil {
		kind := "custom"
		if res.Canned {
			kind = "canned"
		}
		field(&b, "policy", kind)
		field(&b, "expires", timeAndRelative(res.Policy.ExpiresTime(), now))
		if res.Policy.NotBefore != 0 {
			field(&b, "not before", timeAndRelative(res.Policy.NotBeforeTime(), now))
		}
		b.WriteString(indentJSON(res.PolicyBytes))
	}
	if verr != nil {
		b.WriteString("hint: signet explain, given the same URL and cookies, lists likely causes\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
