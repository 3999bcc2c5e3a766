"""The one hash mllint uses (content digests, cache keys, fingerprints): BLAKE2b.

Taken from CPython's built-in ``_blake2`` module when it is there: ``import hashlib`` also loads
OpenSSL's libcrypto, which no other part of a scan needs (3.4 MB of a 21 MB one-file run)."""

try:
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter built without it
    from hashlib import blake2b

__all__ = ["blake2b"]
