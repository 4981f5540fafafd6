from __future__ import annotations

import base64
import secrets
import stat
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from guanai.core import keys
from guanai.core.crypto import blind_index
from guanai.core.tests.encryption_testapp.models import SecretThing

TABLE = SecretThing._meta.db_table
K1 = f"k1:{base64.b64encode(secrets.token_bytes(16)).decode()}"
K2 = f"k2:{base64.b64encode(secrets.token_bytes(16)).decode()}"


def id_number(serial: int) -> str:
    return f"3301272010010{serial:04d}X"


def raw_rows() -> list[tuple[int, str | None, str | None, str | None]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, id_number, address, id_number_index FROM {TABLE} ORDER BY id")  # noqa: S608
        return [tuple(row) for row in cursor.fetchall()]


def stored_under(key_id: str) -> int:
    """How many stored values (of either column) carry `key_id`."""
    prefix = f"{key_id}$"
    return sum(
        1 for _, *values, _index in raw_rows() for value in values if value and value.startswith(prefix)
    )


def rotate(*options: str) -> str:
    out = StringIO()
    call_command("rotate_keys", *options, stdout=out)
    return out.getvalue()


@pytest.fixture
def things_under_k1(db: None) -> Iterator[dict[int, tuple[str | None, str]]]:
    """Seven records written while k1 was the only key (one without an ID number, two without an
    address); then k2 is added as the newest key."""
    expected: dict[int, tuple[str | None, str]] = {}
    with override_settings(GUANAI_FIELD_KEYS=K1):
        for serial in range(7):
            number = None if serial == 3 else id_number(serial)
            address = "" if serial in {1, 5} else f"浙江省杭州市淳安县千岛湖镇富城村{serial}号"
            thing = SecretThing.objects.create(name=f"thing {serial}", id_number=number, address=address)
            expected[thing.pk] = (number, address)
    assert stored_under("k1") == 11
    with override_settings(GUANAI_FIELD_KEYS=f"{K1}\n{K2}"):
        yield expected


def readable(expected: dict[int, tuple[str | None, str]]) -> None:
    assert {thing.pk: (thing.id_number, thing.address) for thing in SecretThing.objects.all()} == expected


def test_rotation_moves_every_value_to_the_newest_key(
    things_under_k1: dict[int, tuple[str | None, str]],
) -> None:
    before = {
        pk: (index, updated)
        for pk, index, updated in SecretThing.objects.values_list("pk", "id_number_index", "updated_at")
    }

    output = rotate("--batch-size", "3")

    assert "encryption_testapp.secretthing：3/7\nencryption_testapp.secretthing：6/7\n" in output
    assert "本次重新加密 7 行" in output
    readable(things_under_k1)
    assert stored_under("k1") == 0
    assert stored_under("k2") == 11
    assert all(
        value is None or value == "" or value.startswith("k2$") for row in raw_rows() for value in row[1:3]
    )
    # Only the encrypted columns were written: blind indexes and auto_now stamps are as they were.
    after = {
        pk: (index, updated)
        for pk, index, updated in SecretThing.objects.values_list("pk", "id_number_index", "updated_at")
    }
    assert after == before
    found = SecretThing.objects.get(id_number_index=blind_index(SecretThing, "id_number", id_number(4)))
    assert found.id_number == id_number(4)


def test_a_second_rotation_has_nothing_to_do(things_under_k1: dict[int, tuple[str | None, str]]) -> None:
    rotate()
    ciphertexts = raw_rows()
    output = rotate()
    assert "encryption_testapp.secretthing：0 行待重新加密" in output
    assert "本次重新加密 0 行" in output
    assert raw_rows() == ciphertexts


def test_an_interrupted_rotation_resumes_where_it_stopped(
    things_under_k1: dict[int, tuple[str | None, str]],
) -> None:
    output = rotate("--batch-size", "2", "--limit", "4")
    assert "本次重新加密 4 行" in output
    assert "已达到 --limit" in output
    still_under_k1 = [pk for pk, number, address, _ in raw_rows() if f"{number}{address}".count("k1$")]
    assert still_under_k1 == sorted(things_under_k1)[4:]
    readable(things_under_k1)  # old and new keys side by side

    assert "本次重新加密 3 行" in rotate()
    assert stored_under("k1") == 0
    readable(things_under_k1)


def test_a_dry_run_counts_and_changes_nothing(things_under_k1: dict[int, tuple[str | None, str]]) -> None:
    before = raw_rows()
    output = rotate("--dry-run")
    assert "最新密钥：k2" in output
    assert "encryption_testapp.secretthing：7 行待重新加密" in output
    assert raw_rows() == before


def test_a_value_that_cannot_be_decrypted_stops_the_rotation_clearly(
    things_under_k1: dict[int, tuple[str | None, str]],
) -> None:
    first = min(things_under_k1)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET address = %s WHERE id = %s", ["k1$AAAA", first])  # noqa: S608
    with pytest.raises(
        CommandError, match=r"encryption_testapp\.secretthing\.address: .*fails authentication"
    ):
        rotate()


def test_rejects_a_batch_size_below_one() -> None:
    with pytest.raises(CommandError, match="--batch-size 和 --limit 必须是正整数"):
        rotate("--batch-size", "0")


# --- generate_keys ------------------------------------------------------------------------------


def generate(*options: str) -> str:
    out = StringIO()
    call_command("generate_keys", *options, stdout=out)
    return out.getvalue()


def test_generate_keys_prints_settings_without_writing() -> None:
    output = generate()
    field_line, blind_line = output.splitlines()
    assert list(keys.parse_field_keys(field_line.removeprefix("GUANAI_FIELD_KEYS="))) == ["k1"]
    assert len(keys.parse_blind_index_key(blind_line.removeprefix("GUANAI_BLIND_INDEX_KEY="))) == 32


def test_generate_keys_writes_private_files_once(tmp_path: Path) -> None:
    output = generate("--dir", str(tmp_path))
    assert f"已生成 {tmp_path / 'field-keys'}" in output
    assert f"GUANAI_FIELD_KEYS_FILE={tmp_path / 'field-keys'}" in output
    field_keys = tmp_path / "field-keys"
    assert stat.S_IMODE(field_keys.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "blind-index-key").stat().st_mode) == 0o600
    content = field_keys.read_text(encoding="utf-8")

    assert f"{field_keys} 已存在，未改动" in generate("--dir", str(tmp_path))
    assert field_keys.read_text(encoding="utf-8") == content


def test_generate_keys_add_appends_the_newest_key_and_rotation_uses_it(tmp_path: Path, db: None) -> None:
    generate("--dir", str(tmp_path))
    settings = {
        "GUANAI_FIELD_KEYS_FILE": str(tmp_path / "field-keys"),
        "GUANAI_BLIND_INDEX_KEY_FILE": str(tmp_path / "blind-index-key"),
    }
    with override_settings(**settings):
        thing = SecretThing.objects.create(id_number=id_number(1), address="浙江省杭州市淳安县")
    k1 = keys.parse_field_keys((tmp_path / "field-keys").read_text(encoding="utf-8"))["k1"]

    assert "追加密钥 k2" in generate("--add", "--dir", str(tmp_path))

    ring = keys.parse_field_keys((tmp_path / "field-keys").read_text(encoding="utf-8"))
    assert list(ring) == ["k1", "k2"]
    assert ring["k1"] == k1
    assert stat.S_IMODE((tmp_path / "field-keys").stat().st_mode) == 0o600
    with override_settings(**settings):
        rotate()
        assert stored_under("k1") == 0
        assert SecretThing.objects.get(pk=thing.pk).id_number == id_number(1)


def test_generate_keys_add_with_inline_keys_prints_the_entry_to_add() -> None:
    with (
        override_settings(GUANAI_FIELD_KEYS=K1),
        pytest.raises(CommandError, match=r"(?s)GUANAI_FIELD_KEYS.*\nk2:"),
    ):
        generate("--add")
