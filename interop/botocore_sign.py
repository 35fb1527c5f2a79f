#!/usr/bin/env python3
"""Sign CloudFront URLs with botocore's CloudFrontSigner, for signet's interop tests.

Protocol (shared with interop/js/sign.mjs, see interop/README.md):
  stdin:  JSON array of cases
          {"id", "key_pem", "key_id", "url", "expires", "policy", "cookies", "hash"}
          botocore only: "spec" {"resource", "expires", "not_before", "ip"} with
          "policy": null builds the custom policy with CloudFrontSigner.build_policy
  stdout: JSON array of results, same order
          {"id", "url", "cookies", "error"}
A case the reference cannot or will not do is reported in "error"; the process
exits 0 unless stdin is not a JSON array.

`botocore_sign.py --version` prints "botocore <version>".

Only the standard library, botocore and cryptography are used. The signing
callback below is the rsa_signer botocore asks its caller for: it returns the
raw signature bytes (RSA PKCS#1 v1.5, or ECDSA as DER) over the bytes botocore
hands it. Everything else (policy, base64, URL assembly) is botocore's.
"""

import json
import sys
from datetime import datetime, timezone


def _version():
    import botocore

    return "botocore " + botocore.__version__


def _load_key(key_pem):
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(key_pem.encode("utf-8"), password=None)


def _make_signer(key, hash_name):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    algo = {"sha1": hashes.SHA1, "sha256": hashes.SHA256}[hash_name]
    if isinstance(key, rsa.RSAPrivateKey):
        return lambda message: key.sign(message, padding.PKCS1v15(), algo())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return lambda message: key.sign(message, ec.ECDSA(algo()))
    raise ValueError("unsupported key type " + type(key).__name__)


def _sign_case(case):
    from botocore.signers import CloudFrontSigner
    from botocore.utils import datetime2timestamp

    hash_name = case.get("hash") or "sha1"
    if hash_name not in ("sha1", "sha256"):
        return None, "unknown hash " + repr(hash_name)
    if case.get("cookies"):
        return None, "unsupported by botocore: no signed-cookie API"
    if hash_name != "sha1":
        return None, "unsupported by botocore: no Hash-Algorithm (SHA-1 only)"

    key_id = case["key_id"]
    url = case["url"]
    policy = case.get("policy")
    if not isinstance(key_id, str) or not isinstance(url, str):
        return None, "key_id and url must be strings"

    signer = CloudFrontSigner(key_id, _make_signer(_load_key(case["key_pem"]), hash_name))
    spec = case.get("spec")
    if policy is None and spec is not None:
        # A custom policy built by botocore's own build_policy from its parts
        # (resource, expiry, optional start and IP), so the tests also pin
        # botocore's policy bytes, not only its URL assembly.
        def utc(n):
            return datetime.fromtimestamp(n, tz=timezone.utc) if n else None
        policy = signer.build_policy(
            spec["resource"], utc(spec["expires"]),
            date_greater_than=utc(spec.get("not_before")),
            ip_address=spec.get("ip") or None)
    if policy is not None:
        if not isinstance(policy, str):
            return None, "policy must be a string or null"
        # botocore encodes a str policy as UTF-8 and signs exactly those bytes.
        return signer.generate_presigned_url(url, policy=policy), None

    expires = case.get("expires")
    if isinstance(expires, bool) or not isinstance(expires, int):
        return None, "canned policy needs an integer expires"
    # A timezone-aware UTC datetime: botocore's datetime2timestamp treats a
    # naive datetime as UTC too, but fromtimestamp() without tz would give
    # local time. Check the round trip so a mismatch is never silent.
    date_less_than = datetime.fromtimestamp(expires, tz=timezone.utc)
    got = int(datetime2timestamp(date_less_than))
    if got != expires:
        return None, "datetime round trip gave %d, not %d" % (got, expires)
    return signer.generate_presigned_url(url, date_less_than=date_less_than), None


def main(argv):
    if len(argv) > 1 and argv[1] == "--version":
        print(_version())
        return 0
    try:
        cases = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        print("botocore_sign: stdin is not JSON: %s" % e, file=sys.stderr)
        return 2
    if not isinstance(cases, list):
        print("botocore_sign: stdin must be a JSON array of cases", file=sys.stderr)
        return 2

    results = []
    for case in cases:
        case_id = case.get("id") if isinstance(case, dict) else None
        result = {"id": case_id, "url": None, "cookies": None, "error": None}
        try:
            if not isinstance(case, dict):
                raise ValueError("case is not a JSON object")
            result["url"], result["error"] = _sign_case(case)
        except Exception as e:  # a per-case failure of the reference, reported
            result["url"] = None
            result["error"] = "%s: %s" % (type(e).__name__, e)
        results.append(result)
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
