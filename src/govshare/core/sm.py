"""国密 primitives behind one small interface (SM3 now; SM2/SM4 join here).

`cryptography` implements SM3 and passes the GB/T 32905 vectors, so we use it rather than our own code.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, hmac


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def hmac_sm3_hex(key: bytes, data: bytes) -> str:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize().hex()
