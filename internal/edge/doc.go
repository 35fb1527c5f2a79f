// Package edge is signet's transport-independent edge core: from the facts
// of a viewer request it decides the whole answer, as a Plan, and adapters
// (edge/nethttp and edge/fasthttp) only write that plan to their
// connections.
//
// Deciding means choosing the distribution by Host and the behavior by path
// pattern, checking the method and viewer protocol, verifying the signed
// URL or cookies with cfsign, deriving the object key, asking the origin
// for the object's metadata and evaluating Range and the If-* headers,
// exactly once, the way http.ServeContent does (the tests use it as an
// oracle). The body is then streamed from the origin by Plan.WriteBody,
// range by range, without ever holding an object whole.
//
// Everything a behavior needs is given to it when the Edge is built: the
// origin it reads through (an edge cache's view with its TTLs, built by
// the server) and, in redirect mode, its presigner. The edge knows no edge
// cache; it only learns how one answered, from the origin.Recorder it puts
// in the context of a distribution marked EdgeCached, and says so in
// X-Cache.
//
// Section numbers (§12, §13) refer to the signing spec,
// cloudfront-signing.md in the signet steering repository; docs/edge.md and
// docs/compatibility.md describe the same behaviour for users.
package edge
