"""The reference and the retrieval code of a request made without an account.

The reference names the request (on the phone to 12355, in a message); the retrieval code, shown once at
intake, proves that the reader is the requester. Both are 8 characters from an alphabet without look-alike
characters (no 0/O, 1/I/L), so an elder can read them out; each holds 40 random bits. Only a keyed digest
(HMAC-SM3 under the blind-index key) of reference and code is stored: a stolen database does not let
anyone read the conversations, and retrieval is rate limited per address, so codes cannot be guessed.
"""

from __future__ import annotations

import hmac
import secrets

from guanai.core.crypto import hmac_sm3
from guanai.core.keys import key_ring

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_PREFIX = "ZX"
CODE_LENGTH = 8


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_reference() -> str:
    """ "ZX" and 8 random characters, such as ZX7K3M9QTA; the caller retries on the (rare) collision."""
    return REFERENCE_PREFIX + _random(CODE_LENGTH)


def new_retrieval_code() -> str:
    return _random(CODE_LENGTH)


def normalise_code(text: str) -> str:
    """What a person typed, as stored: upper case, spaces and dashes dropped, O read as 0 is impossible
    (the alphabet has neither)."""
    return "".join(text.split()).replace("-", "").upper()


def retrieval_digest(reference: str, code: str) -> str:
    message = f"consultation-retrieval\x00{normalise_code(reference)}\x00{normalise_code(code)}"
    return hmac_sm3(key_ring().blind_index_key, message.encode()).hex()


def retrieval_matches(*, reference: str, code: str, digest: str) -> bool:
    return hmac.compare_digest(retrieval_digest(reference, code), digest)
