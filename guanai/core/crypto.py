"""Commercial cryptography (GB/T 39786): SM3 digests. SM4 field encryption joins in the security issue."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes


def sm3_hex(data: str | bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data.encode("utf-8") if isinstance(data, str) else data)
    return digest.finalize().hex()
