#!/usr/bin/env node
// Sign CloudFront URLs and cookies with @aws-sdk/cloudfront-signer, for
// signet's interop tests.
//
// Protocol (shared with interop/botocore_sign.py, see interop/README.md):
//   stdin:  JSON array of cases
//           {"id", "key_pem", "key_id", "url", "expires", "policy", "cookies", "hash"}
//   stdout: JSON array of results, same order
//           {"id", "url", "cookies", "error"}
// A case the package throws on is reported in "error"; the process exits 0
// unless stdin is not a JSON array.
//
// `node sign.mjs --version` prints "@aws-sdk/cloudfront-signer <version>".
//
// No signing logic here: getSignedUrl/getSignedCookies do everything. The
// package signs with node:crypto createSign("RSA-SHA1"/"RSA-SHA256"), which
// with an EC key yields an ECDSA signature (DER), so EC keys work too.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { getSignedCookies, getSignedUrl } from "@aws-sdk/cloudfront-signer";

const PKG = "@aws-sdk/cloudfront-signer";

function version() {
  // The package's "exports" may not expose package.json; resolve its main
  // entry and walk up to the package root instead.
  const require = createRequire(import.meta.url);
  let dir = require.resolve(PKG);
  for (;;) {
    const parent = dir.slice(0, dir.lastIndexOf("/"));
    if (parent === dir || parent === "") break;
    dir = parent;
    try {
      const pkg = JSON.parse(readFileSync(`${dir}/package.json`, "utf8"));
      if (pkg.name === PKG) return `${PKG} ${pkg.version}`;
    } catch {
      // no package.json at this level
    }
  }
  throw new Error(`cannot find ${PKG}/package.json`);
}

function signCase(c) {
  const hash = c.hash ?? "sha1";
  if (hash !== "sha1" && hash !== "sha256") {
    throw new Error(`unknown hash ${JSON.stringify(hash)}`);
  }
  if (typeof c.url !== "string" || typeof c.key_id !== "string" || typeof c.key_pem !== "string") {
    throw new Error("url, key_id and key_pem must be strings");
  }
  const args = { url: c.url, keyPairId: c.key_id, privateKey: c.key_pem };
  if (hash === "sha256") {
    args.algorithm = "SHA256";
  }
  if (c.policy !== null && c.policy !== undefined) {
    if (typeof c.policy !== "string") throw new Error("policy must be a string or null");
    args.policy = c.policy; // signed as its UTF-8 bytes, sent as-is base64
  } else {
    if (!Number.isSafeInteger(c.expires)) throw new Error("canned policy needs an integer expires");
    // The package computes Math.round(date.getTime() / 1000): a Date at
    // exactly expires*1000 ms gives Expires == expires.
    args.dateLessThan = new Date(c.expires * 1000);
  }
  if (c.cookies) {
    const out = {};
    for (const [name, value] of Object.entries(getSignedCookies(args))) {
      // CloudFront-Expires comes back as a number; every value is a string on the wire.
      if (value !== undefined && value !== null) out[name] = String(value);
    }
    return { url: null, cookies: out };
  }
  return { url: getSignedUrl(args), cookies: null };
}

function main() {
  if (process.argv[2] === "--version") {
    process.stdout.write(version() + "\n");
    return 0;
  }
  let cases;
  try {
    cases = JSON.parse(readFileSync(0, "utf8"));
  } catch (e) {
    process.stderr.write(`sign.mjs: stdin is not JSON: ${e.message}\n`);
    return 2;
  }
  if (!Array.isArray(cases)) {
    process.stderr.write("sign.mjs: stdin must be a JSON array of cases\n");
    return 2;
  }
  const results = cases.map((c) => {
    const id = c !== null && typeof c === "object" ? c.id ?? null : null;
    try {
      if (c === null || typeof c !== "object" || Array.isArray(c)) throw new Error("case is not a JSON object");
      return { id, ...signCase(c), error: null };
    } catch (e) {
      return { id, url: null, cookies: null, error: `${e?.name ?? "Error"}: ${e?.message ?? String(e)}` };
    }
  });
  process.stdout.write(JSON.stringify(results) + "\n");
  return 0;
}

process.exitCode = main();
