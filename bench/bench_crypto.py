"""Throughput of the encrypted field type against the raw SM4-GCM cipher, measured in the same process.

    .venv/bin/python bench/bench_crypto.py [--values 100000] [--rounds 3]

Each value is an 18-character ID number. "raw" is `Cipher(algorithms.SM4(key), modes.GCM(nonce))`
encrypt + decrypt with the same associated data; "field" is `EncryptedTextField.get_prep_value` +
`from_db_value` (key ring lookup, nonce, key id prefix, base64, UTF-8) — what every save and load pays.
The best round of each is reported, then field / raw.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def id_numbers(count: int) -> list[str]:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    numbers = []
    for serial in range(count):
        body = f"330127{20000101 + serial % 9000:08d}{serial % 1000:03d}"
        total = sum(int(digit) * weight for digit, weight in zip(body, weights, strict=True))
        numbers.append(body + "10X98765432"[total % 11])
    return numbers


def best_rate(run: Callable[[list[str]], None], values: list[str], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        run(values)
        best = min(best, time.perf_counter() - started)
    return len(values) / best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--values", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    import django

    django.setup()

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from django.db import connection

    from guanai.core.crypto import encrypted_field
    from guanai.core.keys import key_ring
    from guanai.core.tests.encryption_testapp.models import SecretThing

    field = encrypted_field(SecretThing, "id_number")
    ring = key_ring()
    key = ring.field_keys[ring.newest_key_id]
    associated_data = field.context.encode()

    def raw(values: list[str]) -> None:
        for value in values:
            plaintext = value.encode()
            nonce = secrets.token_bytes(12)
            encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
            encryptor.authenticate_additional_data(associated_data)
            ciphertext = encryptor.update(plaintext) + encryptor.finalize()
            decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, encryptor.tag)).decryptor()
            decryptor.authenticate_additional_data(associated_data)
            if decryptor.update(ciphertext) + decryptor.finalize() != plaintext:
                raise AssertionError("raw round trip failed")

    def through_field(values: list[str]) -> None:
        for value in values:
            if field.from_db_value(field.get_prep_value(value), None, connection) != value:
                raise AssertionError("field round trip failed")

    values = id_numbers(options.values)
    raw_rate = best_rate(raw, values, options.rounds)
    field_rate = best_rate(through_field, values, options.rounds)
    print(f"values: {len(values)} ID numbers of 18 characters, best of {options.rounds} rounds")
    print(f"raw SM4-GCM encrypt+decrypt:        {raw_rate:>10,.0f} values/s")
    print(f"EncryptedTextField encrypt+decrypt: {field_rate:>10,.0f} values/s")
    print(f"field / raw: {field_rate / raw_rate:.2f}")


if __name__ == "__main__":
    main()
