package cfsign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// MaxEpoch is the largest epoch CloudFront accepts: 2038-01-19T03:14:07Z,
// the last second of signed 32-bit Unix time. Larger values, such as
// JavaScript milliseconds, are MalformedPolicy (§7). It is signet's one
// statement of that limit: MaxExpiry, MaxLifetime and CheckExpiry derive
// from it, and everything else that bounds an expiry or a lifetime uses them.
const MaxEpoch = 1<<31 - 1

// MaxExpiry is MaxEpoch in RFC 3339, for messages and usage text.
const MaxExpiry = "2038-01-19T03:14:07Z"

// MaxLifetime is the longest lifetime any link can have, the time from the
// Unix epoch to MaxEpoch (24855d3h14m7s, about 68 years), and so the
// largest lifetime cap that means anything. A cap is a duration, not a
// date: one that reaches past MaxExpiry from the moment of signing lets
// links run until MaxExpiry, and CheckExpiry refuses each later expiry.
const MaxLifetime = MaxEpoch * time.Second

// CheckMaxLifetime returns an error, saying why without repeating d, when
// d cannot cap links' lifetimes: below a second (expiries are whole
// seconds) or over MaxLifetime. Every lifetime cap signet takes (the
// signing API's, its tokens', the Lambda function's) is checked with it.
func CheckMaxLifetime(d time.Duration) error {
	switch {
	case d < time.Second:
		return errors.New("below 1s")
	case d > MaxLifetime:
		const day = 24 * time.Hour
		return fmt.Errorf("over %dd%s, the longest any link can live (from 1970 to %s)",
			MaxLifetime/day, MaxLifetime%day, MaxExpiry)
	}
	return nil
}

// CheckExpiry returns an error, saying which date exp (Unix seconds) is and
// that CloudFront accepts none later than MaxExpiry, when exp is after
// MaxEpoch; otherwise nil. Whether exp is in the future is the caller's
// question.
func CheckExpiry(exp int64) error {
	if exp <= MaxEpoch {
		return nil
	}
	return fmt.Errorf("expiry %s is after %s, the latest CloudFront accepts", epochText(exp), MaxExpiry)
}

// epochText formats n (Unix seconds) in RFC 3339, or as a number when it
// is beyond the years RFC 3339 can write.
func epochText(n int64) string {
	if t := time.Unix(n, 0).UTC(); t.Year() <= 9999 {
		return t.Format(time.RFC3339)
	}
	return fmt.Sprintf("%d (Unix seconds)", n)
}

// Policy is a CloudFront policy statement (§5). A canned policy is a Policy
// with only Resource and Expires set.
type Policy struct {
	// Resource is a URL or wildcard pattern (§6). HasResource tells an
	// absent Resource from an empty one.
	Resource    string
	HasResource bool
	// Expires is Condition.DateLessThan.AWS:EpochTime, in Unix seconds.
	Expires int64
	// NotBefore is Condition.DateGreaterThan.AWS:EpochTime; 0 means absent.
	NotBefore int64
	// SourceIP is Condition.IpAddress.AWS:SourceIp; the zero Prefix means
	// absent. Only IPv4 is allowed.
	SourceIP netip.Prefix
}

// IsCanned reports whether p has the shape of a canned policy: a resource and
// an expiry, nothing else.
func (p *Policy) IsCanned() bool {
	return p.HasResource && p.NotBefore == 0 && !p.SourceIP.IsValid()
}

// ExpiresTime returns Expires as a time.Time in UTC.
func (p *Policy) ExpiresTime() time.Time { return time.Unix(p.Expires, 0).UTC() }

// NotBeforeTime returns NotBefore as a time.Time in UTC, or the zero Time.
func (p *Policy) NotBeforeTime() time.Time {
	if p.NotBefore == 0 {
		return time.Time{}
	}
	return time.Unix(p.NotBefore, 0).UTC()
}

// AppendCanned appends the canned policy for resource and the Expires string
// to dst (§4). Both are inserted byte for byte: the template has no
// whitespace, a fixed key order and an unquoted integer, and no JSON escaping
// is ever applied (the signer refuses resources that would need it).
func AppendCanned(dst []byte, resource, expires string) []byte {
	dst = append(dst, `{"Statement":[{"Resource":"`...)
	dst = append(dst, resource...)
	dst = append(dst, `","Condition":{"DateLessThan":{"AWS:EpochTime":`...)
	dst = append(dst, expires...)
	return append(dst, `}}}]}`...)
}

// CannedPolicy returns the canned policy bytes for resource and expires.
func CannedPolicy(resource string, expires int64) []byte {
	return AppendCanned(nil, resource, strconv.FormatInt(expires, 10))
}

// Marshal returns the policy in the form signet signs: the one-element array
// form, no whitespace, no escaping, conditions in botocore's order
// (DateLessThan, IpAddress, DateGreaterThan), so a custom policy signed by
// signet is byte-identical to botocore's build_policy output. An
// expiry-only policy is exactly the canned template.
func (p *Policy) Marshal() ([]byte, error) {
	if err := p.validateForSigning(); err != nil {
		return nil, err
	}
	var b []byte
	b = append(b, `{"Statement":[{"Resource":"`...)
	b = append(b, p.Resource...)
	b = append(b, `","Condition":{"DateLessThan":{"AWS:EpochTime":`...)
	b = strconv.AppendInt(b, p.Expires, 10)
	b = append(b, '}')
	if p.SourceIP.IsValid() {
		b = append(b, `,"IpAddress":{"AWS:SourceIp":"`...)
		b = append(b, p.SourceIP.String()...)
		b = append(b, `"}`...)
	}
	if p.NotBefore != 0 {
		b = append(b, `,"DateGreaterThan":{"AWS:EpochTime":`...)
		b = strconv.AppendInt(b, p.NotBefore, 10)
		b = append(b, '}')
	}
	return append(b, `}}]}`...), nil
}

// validateForSigning refuses policies the signer must never emit (§5, §17).
func (p *Policy) validateForSigning() error {
	if !p.HasResource || p.Resource == "" {
		// (signet, §17 #10) the signer never emits a policy without Resource.
		return errors.New("cfsign: policy needs a resource")
	}
	if err := checkResourceBytes("resource", p.Resource); err != nil {
		return err
	}
	if _, err := ParsePattern(p.Resource); err != nil {
		return err
	}
	if err := checkEpoch(p.Expires); err != nil {
		return fmt.Errorf("cfsign: expiry: %w", err)
	}
	if p.NotBefore != 0 {
		if err := checkEpoch(p.NotBefore); err != nil {
			return fmt.Errorf("cfsign: start: %w", err)
		}
		if p.NotBefore >= p.Expires {
			return errors.New("cfsign: start time must be before the expiry")
		}
	}
	if p.SourceIP.IsValid() && !p.SourceIP.Addr().Is4() {
		return errors.New("cfsign: IpAddress must be IPv4 (CloudFront does not support IPv6)")
	}
	return nil
}

func checkEpoch(n int64) error {
	if n < 1 || n > MaxEpoch {
		if n >= 1e12 && n/1000 <= MaxEpoch { // 13 digits: JavaScript's Date.now()
			return fmt.Errorf("epoch %d is out of range (milliseconds instead of seconds?)", n)
		}
		return fmt.Errorf("epoch %d is out of range 1..%d (%s)", n, MaxEpoch, MaxExpiry)
	}
	return nil
}

// checkResourceBytes enforces §4's character rules for anything the signer
// puts in a policy: no '"', '\', control bytes, non-ASCII, spaces or '#'.
// They would need JSON escaping, which signers disagree on (§16.2), or they
// are not sent by clients as written.
func checkResourceBytes(what, s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c == 0x7f:
			return fmt.Errorf("cfsign: %s has a space or control byte at offset %d; percent-encode it as the client will send it", what, i)
		case c >= 0x80:
			return fmt.Errorf("cfsign: %s has a non-ASCII byte at offset %d; percent-encode it as the client will send it", what, i)
		case c == '"' || c == '\\':
			return fmt.Errorf("cfsign: %s has %q at offset %d, which would need JSON escaping", what, c, i)
		case c == '#':
			return fmt.Errorf("cfsign: %s has a '#' at offset %d; fragments are never sent to the server", what, i)
		}
	}
	return nil
}

// ParsePolicy parses received policy bytes strictly (§5, signet). It is
// called only after the signature over those bytes has verified. Errors
// match ErrBadPolicy. Refused: an unknown key at any level, a duplicate key,
// zero or several statements, a non-string Resource, an epoch that is not a
// plain JSON integer in 1..MaxEpoch, a missing DateLessThan, an IPv6 range
// or an address without /nn.
func ParsePolicy(b []byte) (*Policy, error) {
	p := &Policy{}
	if err := parsePolicy(b, p); err != nil {
		return nil, err
	}
	return p, nil
}

// parsePolicy is ParsePolicy into p, which it may have partly filled when
// it fails. Policies as signers write them take a fast path (scanPolicy);
// anything else, errors included, goes through encoding/json's tokenizer,
// which decides.
func parsePolicy(b []byte, p *Policy) error {
	if scanPolicy(b, p) {
		return nil
	}
	*p = Policy{}
	return parsePolicyJSON(b, p)
}

// parsePolicyJSON is parsePolicy by encoding/json's tokenizer.
func parsePolicyJSON(b []byte, p *Policy) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	pp := policyParser{d: d}
	if err := pp.document(p); err != nil {
		return &Error{Code: MalformedPolicy, Reason: ErrBadPolicy, Detail: err.Error()}
	}
	return nil
}

type policyParser struct{ d *json.Decoder }

func (pp policyParser) document(p *Policy) error {
	sawStatement := false
	err := pp.object("top level", func(key string) error {
		if key != "Statement" {
			return fmt.Errorf("unknown key %q at top level", key)
		}
		sawStatement = true
		return pp.statements(p)
	})
	if err != nil {
		return err
	}
	if !sawStatement {
		return errors.New("no Statement")
	}
	if _, err := pp.d.Token(); err != io.EOF {
		return errors.New("trailing data after the policy object")
	}
	if p.Expires == 0 {
		return errors.New("no Condition.DateLessThan")
	}
	// A start at or after the expiry is never satisfiable but not malformed:
	// the verifier reports it as expired or not yet valid.
	return nil
}

// statements accepts one statement object or an array holding exactly one.
func (pp policyParser) statements(p *Policy) error {
	tok, err := pp.d.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		return pp.statementBody(p)
	case json.Delim('['):
		n := 0
		for pp.d.More() {
			n++
			if n > 1 {
				return errors.New("more than one statement")
			}
			tok, err := pp.d.Token()
			if err != nil {
				return err
			}
			if tok != json.Delim('{') {
				return errors.New("statement is not an object")
			}
			if err := pp.statementBody(p); err != nil {
				return err
			}
		}
		if _, err := pp.d.Token(); err != nil { // ']'
			return err
		}
		if n == 0 {
			return errors.New("empty Statement array")
		}
		return nil
	}
	return errors.New("the Statement is not an object or array")
}

func (pp policyParser) statementBody(p *Policy) error {
	sawCondition := false
	return pp.members("Statement", func(key string) error {
		switch key {
		case "Resource":
			s, err := pp.str("the Resource")
			if err != nil {
				return err
			}
			p.Resource, p.HasResource = s, true
			return nil
		case "Condition":
			sawCondition = true
			return pp.condition(p)
		}
		return fmt.Errorf("unknown key %q in Statement", key)
	}, func() error {
		if !sawCondition {
			return errors.New("no Condition")
		}
		return nil
	})
}

func (pp policyParser) condition(p *Policy) error {
	return pp.object("Condition", func(key string) error {
		switch key {
		case "DateLessThan":
			return pp.epoch("DateLessThan", &p.Expires)
		case "DateGreaterThan":
			return pp.epoch("DateGreaterThan", &p.NotBefore)
		case "IpAddress":
			err := pp.object("IpAddress", func(key string) error {
				if key != "AWS:SourceIp" {
					return fmt.Errorf("unknown key %q in IpAddress", key)
				}
				s, err := pp.str("AWS:SourceIp")
				if err != nil {
					return err
				}
				pfx, err := netip.ParsePrefix(s)
				if err != nil {
					return fmt.Errorf("AWS:SourceIp %q is not a CIDR range", s)
				}
				if !pfx.Addr().Is4() {
					return fmt.Errorf("AWS:SourceIp %q is not IPv4", s)
				}
				p.SourceIP = pfx
				return nil
			})
			if err == nil && !p.SourceIP.IsValid() {
				return errors.New("IpAddress has no AWS:SourceIp")
			}
			return err
		}
		return fmt.Errorf("unknown condition %q", key)
	})
}

func (pp policyParser) epoch(where string, dst *int64) error {
	seen := false
	err := pp.object(where, func(key string) error {
		seen = true
		if key != "AWS:EpochTime" {
			return fmt.Errorf("unknown key %q in %s", key, where)
		}
		tok, err := pp.d.Token()
		if err != nil {
			return err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return fmt.Errorf("%s is not a number", where)
		}
		s := string(num)
		if strings.ContainsAny(s, ".eE-+") {
			return fmt.Errorf("%s %s is not a plain integer", where, s)
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%s %s is not an integer", where, s)
		}
		if err := checkEpoch(n); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		*dst = n
		return nil
	})
	if err == nil && !seen {
		// An empty condition would otherwise read as absent (fail open).
		return fmt.Errorf("%s has no AWS:EpochTime", where)
	}
	return err
}

// str reads a string value; what names it in the error.
func (pp policyParser) str(what string) (string, error) {
	tok, err := pp.d.Token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", errors.New(what + " is not a string")
	}
	return s, nil
}

// object reads a whole JSON object, calling member for each key with the
// decoder positioned at its value. Duplicate keys are refused: encoding/json
// would silently keep the last one.
func (pp policyParser) object(where string, member func(key string) error) error {
	tok, err := pp.d.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("%s is not an object", where)
	}
	return pp.members(where, member, nil)
}

// members reads the members of an object whose '{' was consumed.
func (pp policyParser) members(where string, member func(key string) error, done func() error) error {
	seen := make(map[string]bool, 4)
	for pp.d.More() {
		tok, err := pp.d.Token()
		if err != nil {
			return err
		}
		key := tok.(string) // object keys are always strings in Token
		if seen[key] {
			return fmt.Errorf("duplicate key %q in %s", key, where)
		}
		seen[key] = true
		if err := member(key); err != nil {
			return err
		}
	}
	if _, err := pp.d.Token(); err != nil { // '}'
		return err
	}
	if done != nil {
		return done()
	}
	return nil
}

// scanPolicy parses the common shape of a policy without encoding/json, and
// so with one allocation (two with an IpAddress) instead of about a hundred:
// the grammar of parsePolicyJSON restricted to strings of printable ASCII
// without escapes, epochs of plain digits, and no duplicate, unknown or
// missing member. It reports false for anything else, whether valid or not,
// leaving the decision and the error to parsePolicyJSON; where it reports
// true, parsePolicyJSON gives the same Policy (FuzzScanPolicy holds it to
// that).
func scanPolicy(b []byte, p *Policy) bool {
	s := scanner{b: b}
	if !s.eat('{') {
		return false
	}
	if name, more, ok := s.field(true); !ok || !more || string(name) != "Statement" {
		return false
	}
	if s.eat('[') {
		if !s.eat('{') || !s.statement(p) || !s.eat(']') {
			return false
		}
	} else if !s.eat('{') || !s.statement(p) {
		return false
	}
	if _, more, ok := s.field(false); !ok || more {
		return false
	}
	s.space()
	return s.i == len(s.b) && p.Expires != 0
}

// scanner reads the JSON subset of scanPolicy.
type scanner struct {
	b []byte
	i int
}

// space skips JSON whitespace.
func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// eat consumes c, after whitespace, and reports whether it was there.
func (s *scanner) eat(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string of printable ASCII without escapes and returns its
// bytes, which are also its value.
func (s *scanner) str() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	for start := s.i; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c < 0x20 || c > 0x7e || c == '\\':
			return nil, false
		}
	}
	return nil, false
}

// field reads the next member name of an object and the ':' after it;
// first says whether it is the first member (no ',' before it). more is
// false at the object's closing '}'.
func (s *scanner) field(first bool) (name []byte, more, ok bool) {
	if s.eat('}') {
		return nil, false, true
	}
	if !first && !s.eat(',') {
		return nil, false, false
	}
	if name, ok = s.str(); !ok || !s.eat(':') {
		return nil, false, false
	}
	return name, true, true
}

// members reads an object's members, its '{' consumed, calling member
// with each name and the scanner before the value, which member reads. It
// reports whether the object was well formed and member said yes to each.
func (s *scanner) members(member func(name []byte) bool) bool {
	for first := true; ; first = false {
		name, more, ok := s.field(first)
		switch {
		case !ok:
			return false
		case !more:
			return true
		}
		if !member(name) {
			return false
		}
	}
}

// statement reads a statement's members, its '{' consumed.
func (s *scanner) statement(p *Policy) bool {
	sawResource, sawCondition := false, false
	return s.members(func(name []byte) bool {
		switch string(name) {
		case "Resource":
			v, ok := s.str()
			if sawResource || !ok {
				return false
			}
			p.Resource, p.HasResource, sawResource = string(v), true, true
		case "Condition":
			if sawCondition || !s.eat('{') || !s.condition(p) {
				return false
			}
			sawCondition = true
		default:
			return false
		}
		return true
	}) && sawCondition
}

// condition reads a Condition's members, its '{' consumed.
func (s *scanner) condition(p *Policy) bool {
	var sawLess, sawGreater, sawIP bool
	return s.members(func(name []byte) bool {
		switch string(name) {
		case "DateLessThan":
			if sawLess || !s.epoch(&p.Expires) {
				return false
			}
			sawLess = true
		case "DateGreaterThan":
			if sawGreater || !s.epoch(&p.NotBefore) {
				return false
			}
			sawGreater = true
		case "IpAddress":
			if sawIP || !s.eat('{') {
				return false
			}
			if name, more, ok := s.field(true); !ok || !more || string(name) != "AWS:SourceIp" {
				return false
			}
			v, ok := s.str()
			if !ok {
				return false
			}
			pfx, err := netip.ParsePrefix(string(v))
			if err != nil || !pfx.Addr().Is4() {
				return false
			}
			if _, more, ok := s.field(false); !ok || more {
				return false
			}
			p.SourceIP, sawIP = pfx, true
		default:
			return false
		}
		return true
	})
}

// epoch reads {"AWS:EpochTime":n} with n plain digits in 1..MaxEpoch.
func (s *scanner) epoch(dst *int64) bool {
	if !s.eat('{') {
		return false
	}
	if name, more, ok := s.field(true); !ok || !more || string(name) != "AWS:EpochTime" {
		return false
	}
	s.space()
	start := s.i
	var n int64
	for ; s.i < len(s.b) && s.i-start < 10 && '0' <= s.b[s.i] && s.b[s.i] <= '9'; s.i++ {
		n = n*10 + int64(s.b[s.i]-'0')
	}
	if s.i == start || s.b[start] == '0' || n > MaxEpoch {
		return false
	}
	if s.i < len(s.b) && strings.IndexByte("0123456789.eE+-", s.b[s.i]) >= 0 {
		return false // more of a number than plain digits
	}
	if _, more, ok := s.field(false); !ok || more {
		return false
	}
	*dst = n
	return true
}
