from __future__ import annotations

import base64
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.test import override_settings
from django.test.utils import isolate_apps
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanai.core import keys
from guanai.core.access import Permission
from guanai.core.crypto import (
    BlindIndexField,
    DecryptionError,
    EncryptedTextField,
    blind_index,
    decrypt_text,
    encrypt_plaintext_rows,
    encrypt_text,
    sm3_hex,
)
from guanai.core.keys import key_ring
from guanai.core.tests.encryption_testapp.models import SecretThing

ROOT = Path(__file__).resolve().parents[3]
TABLE = SecretThing._meta.db_table
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(first_seventeen: str) -> str:
    """A resident ID number with its GB 11643 check character."""
    total = sum(int(digit) * weight for digit, weight in zip(first_seventeen, ID_WEIGHTS, strict=True))
    return first_seventeen + "10X98765432"[total % 11]


GIRL_IN_CHUN_AN = id_number("33012720100101002")  # 330127201001010028
BOY_IN_CHUN_AN = id_number("33012720120315001")
ADDRESS = "浙江省杭州市淳安县千岛湖镇富城村12号"
SIXTEEN_BYTES = base64.b64encode(bytes(range(16))).decode()


def stored(pk: int, column: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {TABLE} WHERE id = %s", [pk])  # noqa: S608 - fixed names
        value: str | None = cursor.fetchone()[0]
    return value


def store_raw(pk: int, column: str, value: str | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608


def field_key(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(16)).decode()}"


def test_sm3_of_abc_is_the_standard_test_vector() -> None:
    assert sm3_hex("abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_check_characters_of_the_test_id_numbers() -> None:
    assert GIRL_IN_CHUN_AN == "330127201001010028"
    assert id_number("11010519491231002") == "11010519491231002X"  # the example of GB 11643


@given(st.text())
def test_any_text_round_trips_through_the_cipher(text: str) -> None:
    sealed = encrypt_text(text, context="app.model.field")
    assert sealed.startswith(key_ring().newest_key_id + "$")
    assert decrypt_text(sealed, context="app.model.field") == text


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text())
def test_any_text_round_trips_through_the_database(text: str) -> None:
    thing = SecretThing.objects.create(id_number=text, address=text)
    fetched = SecretThing.objects.get(pk=thing.pk)
    assert (fetched.id_number, fetched.address) == (text, text)
    assert SecretThing.objects.filter(pk=thing.pk).values_list("id_number", flat=True).get() == text
    thing.delete()


@pytest.mark.django_db
def test_the_database_holds_no_plaintext_only_the_key_id_and_ciphertext() -> None:
    thing = SecretThing.objects.create(name="张三", id_number=GIRL_IN_CHUN_AN, address=ADDRESS)
    newest = key_ring().newest_key_id
    raw_id_number, raw_address = stored(thing.pk, "id_number"), stored(thing.pk, "address")
    assert raw_id_number is not None
    assert raw_address is not None
    assert raw_id_number.startswith(f"{newest}$")
    assert raw_address.startswith(f"{newest}$")
    for fragment in (GIRL_IN_CHUN_AN, "20100101", "330127", "淳安", "千岛湖"):
        assert fragment not in raw_id_number
        assert fragment not in raw_address
    index = stored(thing.pk, "id_number_index")
    assert index is not None
    assert len(index) == 64
    assert GIRL_IN_CHUN_AN not in index


@pytest.mark.django_db
def test_two_saves_of_one_value_give_different_ciphertexts_and_one_blind_index() -> None:
    first = SecretThing.objects.create(id_number=GIRL_IN_CHUN_AN)
    first_ciphertext, first_index = stored(first.pk, "id_number"), stored(first.pk, "id_number_index")
    first.save()
    assert stored(first.pk, "id_number") != first_ciphertext
    assert stored(first.pk, "id_number_index") == first_index


@pytest.mark.django_db
def test_the_blind_index_finds_a_record_by_id_number() -> None:
    girl = SecretThing.objects.create(name="girl", id_number=GIRL_IN_CHUN_AN)
    SecretThing.objects.create(name="boy", id_number=BOY_IN_CHUN_AN)
    for typed in (GIRL_IN_CHUN_AN, f" {GIRL_IN_CHUN_AN} ", "３３０１２７２０１００１０１００２８"):
        found = SecretThing.objects.get(id_number_index=blind_index(SecretThing, "id_number", typed))
        assert found == girl
    nobody = blind_index(SecretThing, "id_number", id_number("33012720100101003"))
    assert not SecretThing.objects.filter(id_number_index=nobody).exists()


@pytest.mark.django_db
def test_the_check_character_x_is_found_whatever_its_case() -> None:
    with_x = "11010519491231002X"
    thing = SecretThing.objects.create(id_number=with_x.lower())
    assert SecretThing.objects.get(id_number_index=blind_index(SecretThing, "id_number", with_x)) == thing


@pytest.mark.django_db
def test_a_duplicate_id_number_is_refused_by_the_unique_blind_index() -> None:
    SecretThing.objects.create(id_number=GIRL_IN_CHUN_AN)
    with pytest.raises(IntegrityError), transaction.atomic():
        SecretThing.objects.create(id_number=f"{GIRL_IN_CHUN_AN} ")


@pytest.mark.django_db
def test_empty_values_stay_empty_and_have_no_blind_index() -> None:
    no_id = SecretThing.objects.create(id_number=None, address="")
    blank_id = SecretThing.objects.create(id_number="", address="")
    assert stored(no_id.pk, "id_number") is None
    assert stored(blank_id.pk, "id_number") == ""
    assert stored(no_id.pk, "address") == ""
    # NULL indexes: any number of records without an ID number despite the unique index.
    assert stored(no_id.pk, "id_number_index") is None
    assert stored(blank_id.pk, "id_number_index") is None
    assert blind_index(SecretThing, "id_number", "  ") is None
    assert SecretThing.objects.filter(id_number__isnull=True).get() == no_id


@pytest.mark.django_db
def test_an_altered_ciphertext_fails_to_decrypt_with_a_clear_error() -> None:
    thing = SecretThing.objects.create(id_number=GIRL_IN_CHUN_AN)
    ciphertext = stored(thing.pk, "id_number")
    assert ciphertext is not None
    key_id, encoded = ciphertext.split("$")
    sealed = bytearray(base64.b64decode(encoded))
    sealed[14] ^= 0x01  # one bit of the ciphertext
    store_raw(thing.pk, "id_number", f"{key_id}${base64.b64encode(bytes(sealed)).decode()}")
    with pytest.raises(DecryptionError) as refused:
        SecretThing.objects.get(pk=thing.pk)
    assert str(refused.value) == (
        f"encryption_testapp.secretthing.id_number: the value under key {key_id!r} fails authentication — "
        "altered, or copied from another column"
    )


@pytest.mark.django_db
def test_a_ciphertext_copied_into_another_column_does_not_decrypt() -> None:
    thing = SecretThing.objects.create(id_number=GIRL_IN_CHUN_AN, address=ADDRESS)
    store_raw(thing.pk, "address", stored(thing.pk, "id_number"))
    with pytest.raises(
        DecryptionError, match=r"^encryption_testapp\.secretthing\.address: .*fails authentication"
    ):
        SecretThing.objects.get(pk=thing.pk)


@pytest.mark.django_db
def test_a_value_written_without_encryption_is_refused() -> None:
    thing = SecretThing.objects.create(address=ADDRESS)
    store_raw(thing.pk, "address", ADDRESS)
    with pytest.raises(DecryptionError, match="not KEYID\\$BASE64"):
        SecretThing.objects.get(pk=thing.pk)


@pytest.mark.django_db
def test_a_value_under_a_key_no_longer_configured_is_refused() -> None:
    with override_settings(GUANAI_FIELD_KEYS=field_key("retired")):
        thing = SecretThing.objects.create(address=ADDRESS)
    with pytest.raises(DecryptionError, match="under key 'retired', which is not in GUANAI_FIELD_KEYS"):
        SecretThing.objects.get(pk=thing.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("lookup", ["id_number", "id_number__exact", "id_number__in", "id_number__icontains"])
def test_lookups_on_an_encrypted_field_are_refused(lookup: str) -> None:
    value: object = [GIRL_IN_CHUN_AN] if lookup.endswith("__in") else GIRL_IN_CHUN_AN
    with pytest.raises(FieldError, match=r"is encrypted: .*blind_index\(SecretThing, 'id_number', value\)"):
        SecretThing.objects.filter(**{lookup: value}).exists()


@pytest.mark.django_db
def test_the_blind_index_follows_an_update_through_save() -> None:
    thing = SecretThing.objects.create(id_number=GIRL_IN_CHUN_AN)
    thing.id_number = BOY_IN_CHUN_AN
    assert thing.id_number_index == blind_index(SecretThing, "id_number", BOY_IN_CHUN_AN)
    thing.save(update_fields=["id_number", "id_number_index"])
    assert (
        SecretThing.objects.get(id_number_index=blind_index(SecretThing, "id_number", BOY_IN_CHUN_AN))
        == thing
    )
    assert not SecretThing.objects.filter(
        id_number_index=blind_index(SecretThing, "id_number", GIRL_IN_CHUN_AN)
    ).exists()


@pytest.mark.django_db
def test_saving_the_source_without_its_blind_index_is_refused() -> None:
    thing = SecretThing.objects.create(id_number=GIRL_IN_CHUN_AN)
    thing.id_number = BOY_IN_CHUN_AN
    with pytest.raises(ValueError, match="names 'id_number' without its blind index 'id_number_index'"):
        thing.save(update_fields=["id_number"])
    assert SecretThing.objects.get(pk=thing.pk).id_number == GIRL_IN_CHUN_AN


@pytest.mark.django_db
def test_bulk_update_of_the_source_and_its_index_keeps_them_together() -> None:
    things = [SecretThing.objects.create(id_number=id_number(f"3301272010010100{n}")) for n in range(3)]
    for thing in things:
        thing.id_number = f"{thing.id_number}!"
    SecretThing.objects.bulk_update(things, ["id_number", "id_number_index"])
    for thing in things:
        assert (
            SecretThing.objects.get(id_number_index=blind_index(SecretThing, "id_number", thing.id_number))
            == thing
        )


@pytest.mark.django_db
def test_full_clean_reports_a_duplicate_through_the_blind_index() -> None:
    SecretThing.objects.create(id_number=GIRL_IN_CHUN_AN)
    duplicate = SecretThing(id_number=f" {GIRL_IN_CHUN_AN} ")
    with pytest.raises(ValidationError) as refused:
        duplicate.full_clean()
    assert list(refused.value.message_dict) == ["id_number_index"]


def test_blind_indexes_differ_between_columns_for_one_value() -> None:
    index = blind_index(SecretThing, "id_number", "x")
    assert index is not None
    assert index != blind_index(SecretThing, "address", "x")


def test_mobile_numbers_are_normalised_before_indexing() -> None:
    field = EncryptedTextField(mask="mobile")
    assert field.normaliser == "mobile"
    assert {field.normalise(typed) for typed in ("13905710001", "139 0571 0001", "+86 139-0571-0001")} == {
        "13905710001"
    }


def test_the_field_type_deconstructs_for_migrations() -> None:
    field = EncryptedTextField(
        "身份证号", mask="id_number", unmask_permission=Permission.ACCOUNT_MANAGE, null=True
    )
    _, path, args, kwargs = field.deconstruct()
    assert path == "guanai.core.crypto.EncryptedTextField"
    assert kwargs == {
        "verbose_name": "身份证号",
        "mask": "id_number",
        "unmask_permission": "accounts.manage",
        "null": True,
    }
    assert EncryptedTextField(*args, **kwargs).unmask_permission is Permission.ACCOUNT_MANAGE
    assert EncryptedTextField(mask="address", normaliser="text").deconstruct()[3] == {"mask": "address"}

    index = BlindIndexField(source="mobile", unique=True)
    assert index.deconstruct()[3] == {"source": "mobile", "unique": True}
    assert BlindIndexField(source="mobile").deconstruct()[3] == {"source": "mobile"}
    assert BlindIndexField(source="mobile", null=False).deconstruct()[3] == {
        "source": "mobile",
        "null": False,
    }


def test_unknown_mask_or_normaliser_is_refused() -> None:
    with pytest.raises(ValueError, match="mask must be one of"):
        EncryptedTextField(mask="secret")
    with pytest.raises(ValueError, match="normaliser must be one of"):
        EncryptedTextField(normaliser="lower")


@isolate_apps("guanai.core")
def test_system_checks_refuse_an_indexed_encrypted_field_and_a_stray_blind_index() -> None:
    class Misdeclared(models.Model):
        name = models.CharField(max_length=10)
        mobile = EncryptedTextField(unique=True)
        name_index = BlindIndexField(source="name")

        class Meta:
            app_label = "core"

        def __str__(self) -> str:
            return self.name

    mobile_errors = [error.id for error in Misdeclared._meta.get_field("mobile").check()]
    index_errors = [error.id for error in Misdeclared._meta.get_field("name_index").check()]
    assert mobile_errors == ["guanai.E001"]
    assert index_errors == ["guanai.E002"]


@pytest.mark.django_db
def test_plaintext_left_by_a_column_conversion_is_encrypted_once() -> None:
    converted = SecretThing.objects.create(id_number=GIRL_IN_CHUN_AN, address=ADDRESS)
    store_raw(converted.pk, "id_number", f" {BOY_IN_CHUN_AN}")
    store_raw(converted.pk, "id_number_index", None)
    untouched = SecretThing.objects.create(id_number=GIRL_IN_CHUN_AN.replace("28", "1X"), address=ADDRESS)
    untouched_ciphertext = stored(untouched.pk, "id_number")

    assert encrypt_plaintext_rows(SecretThing) == 1
    assert SecretThing.objects.get(pk=converted.pk).id_number == f" {BOY_IN_CHUN_AN}"
    assert (
        SecretThing.objects.get(id_number_index=blind_index(SecretThing, "id_number", BOY_IN_CHUN_AN))
        == converted
    )
    assert stored(untouched.pk, "id_number") == untouched_ciphertext
    assert encrypt_plaintext_rows(SecretThing) == 0


# --- The key ring ------------------------------------------------------------------------------


def test_the_last_key_is_the_newest_and_entries_may_be_lines_or_commas() -> None:
    k1, k2, k3 = field_key("k1"), field_key("k2"), field_key("k3")
    parsed = keys.parse_field_keys(f"# field keys\n{k1}\n\n{k2},{k3}\n")
    assert list(parsed) == ["k1", "k2", "k3"]
    assert parsed["k2"] == base64.b64decode(k2.split(":")[1])
    assert keys.KeyRing(field_keys=parsed, blind_index_key=b"x" * 32).newest_key_id == "k3"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "GUANAI_FIELD_KEYS holds no key; expected lines of KEYID:BASE64KEY"),
        ("k1", "GUANAI_FIELD_KEYS: entry 'k1' is not KEYID:BASE64KEY"),
        ("k1:not base64!", "GUANAI_FIELD_KEYS: key 'k1' is not valid base64"),
        (
            "k1:" + base64.b64encode(b"x" * 32).decode(),
            "GUANAI_FIELD_KEYS: key 'k1' must decode to 16 bytes, not 32",
        ),
        (
            "k$1:" + base64.b64encode(b"x" * 16).decode(),
            "GUANAI_FIELD_KEYS: key id 'k$1' must be 1-32 letters",
        ),
        (f"k1:{SIXTEEN_BYTES}\nk1:{SIXTEEN_BYTES}", "GUANAI_FIELD_KEYS: key id 'k1' appears twice"),
    ],
)
def test_malformed_field_keys_fail_loudly(text: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured) as refused:
        keys.parse_field_keys(text)
    assert str(refused.value).startswith(message)


def test_a_blind_index_key_of_the_wrong_length_fails_loudly() -> None:
    with pytest.raises(ImproperlyConfigured, match="GUANAI_BLIND_INDEX_KEY must decode to 32 bytes, not 16"):
        keys.parse_blind_index_key(base64.b64encode(b"x" * 16).decode())


def test_keys_are_read_from_files(tmp_path: Path) -> None:
    (tmp_path / "field-keys").write_text(f"{field_key('a1')}\n{field_key('a2')}\n", encoding="utf-8")
    (tmp_path / "blind").write_text(base64.b64encode(b"b" * 32).decode() + "\n", encoding="utf-8")
    with override_settings(
        GUANAI_FIELD_KEYS_FILE=str(tmp_path / "field-keys"),
        GUANAI_BLIND_INDEX_KEY_FILE=str(tmp_path / "blind"),
    ):
        ring = key_ring()
        assert list(ring.field_keys) == ["a1", "a2"]
        assert ring.blind_index_key == b"b" * 32
    assert key_ring().newest_key_id != "a2"


def test_an_unreadable_key_file_fails_loudly(tmp_path: Path) -> None:
    with (
        override_settings(GUANAI_FIELD_KEYS_FILE=str(tmp_path / "missing")),
        pytest.raises(ImproperlyConfigured, match=r"GUANAI_FIELD_KEYS_FILE=.*missing cannot be read"),
    ):
        key_ring()


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GUANAI_", "DJANGO_"))}
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "GUANAI_SECRET_KEY": secrets.token_urlsafe(64),
            "GUANAI_AUDIT_KEY": secrets.token_urlsafe(48),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_without_keys_refuses_to_start(tmp_path: Path) -> None:
    done = run_manage("check", GUANAI_DEBUG="0", GUANAI_KEY_DIR=str(tmp_path))
    assert done.returncode != 0
    assert "ImproperlyConfigured: GUANAI_FIELD_KEYS and GUANAI_BLIND_INDEX_KEY must be set" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_production_starts_with_keys_from_files(tmp_path: Path) -> None:
    made = run_manage("generate_keys", "--dir", str(tmp_path / "keys"), GUANAI_DEBUG="0")
    assert made.returncode == 0, made.stderr
    done = run_manage(
        "check",
        GUANAI_DEBUG="0",
        GUANAI_FIELD_KEYS_FILE=str(tmp_path / "keys" / "field-keys"),
        GUANAI_BLIND_INDEX_KEY_FILE=str(tmp_path / "keys" / "blind-index-key"),
    )
    assert done.returncode == 0, done.stderr


def test_the_embedded_demo_generates_local_key_files_once(tmp_path: Path) -> None:
    first = run_manage("check", GUANAI_DEBUG="1", GUANAI_KEY_DIR=str(tmp_path))
    assert first.returncode == 0, first.stderr
    field_keys, blind_index_key = tmp_path / "field-keys", tmp_path / "blind-index-key"
    assert stat.S_IMODE(field_keys.stat().st_mode) == 0o600
    assert stat.S_IMODE(blind_index_key.stat().st_mode) == 0o600
    assert list(keys.parse_field_keys(field_keys.read_text(encoding="utf-8"))) == ["k1"]
    contents = (field_keys.read_bytes(), blind_index_key.read_bytes())

    second = run_manage("check", GUANAI_DEBUG="1", GUANAI_KEY_DIR=str(tmp_path))
    assert second.returncode == 0, second.stderr
    assert (field_keys.read_bytes(), blind_index_key.read_bytes()) == contents
