package cfsign

// Helpers for tools that explain a link rather than verify it (signet
// explain). They expose what the verifier decides, piece by piece, so an
// explanation never re-implements a rule and drifts from it.

// MatchSections is Match taken apart: it reports whether each section of the
// pattern matches its part of the request URL, in the order of Sections
// (protocol, domain, path, query). The arguments are as for Match.
func (p *Pattern) MatchSections(scheme, host, path, query string) [4]bool {
	return [4]bool{
		p.protocol.match(scheme),
		p.domain.match(host),
		p.path.match(path),
		p.qry.match(query),
	}
}

// ParseExpires validates an Expires value exactly as the verifier does
// (§7, signet): ASCII digits, no sign, no leading zero, in 1..MaxEpoch. The
// error is an *Error with Code MalformedPolicy and Reason ErrBadExpires.
func ParseExpires(s string) (int64, error) {
	n, err := parseExpires(s)
	if err != nil {
		return 0, deny(ErrBadExpires, err.Error())
	}
	return n, nil
}
