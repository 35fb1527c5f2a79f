// Package cfsign signs and verifies Amazon CloudFront signed URLs and signed
// cookies, byte for byte compatible with the AWS SDK signers.
//
// docs/compatibility.md describes the link format for users. The full wire
// contract is the signing spec, cloudfront-signing.md in the signet steering
// repository; section numbers in comments (§3, §13, ...) refer to it. Where CloudFront's behaviour is undocumented, this package takes the
// strict, fail-closed choice and says so in a comment marked "(signet)".
//
// The package uses only the standard library and performs no I/O: keys come
// in as PEM bytes, requests as their raw facts, and the clock is injected.
//
// A Verifier can remember the credentials it has verified
// (Options.CacheSize), so that a link used again costs no public-key
// operation; the checks that depend on the request and the clock still run
// on every request, and a hit allocates nothing.
package cfsign
