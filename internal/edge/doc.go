// Package edge is signet's transport-independent edge core: from the facts
// of a viewer request it decides the whole answer, as a Plan, and adapters
// (edge/nethttp, later others) only write that plan to their connections.
//
// Deciding means choosing the distribution by Host and the behavior by path
// pattern, checking the method and viewer protocol, verifying the signed
// URL or cookies with cfsign, deriving the object key, asking the origin
// for the object's metadata and evaluating Range and the If-* headers,
// exactly once, the way http.ServeContent does (the tests use it as an
// oracle). The body is then streamed from the origin by Plan.WriteBody,
// range by range, without ever holding an object whole.
//
// Section numbers (§12, §13) refer to the signing spec,
// cloudfront-signing.md in the signet steering repository; docs/edge.md and
// docs/compatibility.md describe the same behaviour for users.
package edge
