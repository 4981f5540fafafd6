"""Commercial cryptography (GB/T 39786): SM3 digests, SM4-GCM field encryption and HMAC-SM3 blind indexes.

A personal-data column is an `EncryptedTextField`; what the database holds is

    KEYID$BASE64(nonce[12] ‖ ciphertext ‖ tag[16])

encrypted with SM4-GCM under the newest key of the key ring (`guanai.core.keys`). The associated data is
"<app_label>.<model>.<field>", so a ciphertext copied into another column (or another table) fails to
decrypt instead of showing up there. Renaming such a field or its model therefore needs the values
re-encrypted in the same migration. None stays NULL and "" stays "": emptiness is not a secret, and
Django stores a blank form value as "".

Ciphertexts are randomised, so the database can compare nothing: every lookup except `isnull` is refused.
Exact lookups and duplicate checks go through a companion `BlindIndexField(source=...)` holding the
HMAC-SM3 of the normalised value:

    class Volunteer(models.Model):
        id_number = EncryptedTextField(_("身份证号"), mask="id_number", unmask_permission=Permission.X)
        id_number_index = BlindIndexField(source="id_number", unique=True)

    Volunteer.objects.filter(id_number_index=blind_index(Volunteer, "id_number", "33012720100101002X"))

The index attribute always reads as the index of the source's current value, so `full_clean` (unique
checks), `save` and `bulk_update(objs, ["id_number", "id_number_index"])` store the right one;
`save(update_fields=[...])` naming the source without its index is refused. `QuerySet.update()` cannot
compute it: update the instance and save it instead.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.apps import apps
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, FieldError
from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import signals
from django.db.models.functions import Cast
from django.db.models.lookups import IsNull, Lookup, Transform
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import gettext_lazy as _

from guanai.core.access import Permission
from guanai.core.keys import KeyRing, key_ring

NONCE_BYTES = 12
TAG_BYTES = 16
KEY_ID_SEPARATOR = "$"
_STORED_PATTERN = re.compile(r"^([A-Za-z0-9_.-]{1,32})\$([A-Za-z0-9+/]+={0,2})$")


class DecryptionError(Exception):
    """A stored value cannot be decrypted: altered, copied from another column, or under an unknown key."""


def sm3_hex(data: str | bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data.encode("utf-8") if isinstance(data, str) else data)
    return digest.finalize().hex()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


# --- SM4-GCM ----------------------------------------------------------------------------------------


def sm4_gcm_encrypt(key: bytes, plaintext: bytes, *, associated_data: bytes) -> bytes:
    """nonce ‖ ciphertext ‖ tag, with a fresh random 96-bit nonce."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(associated_data)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return nonce + ciphertext + encryptor.tag


def sm4_gcm_decrypt(key: bytes, sealed: bytes, *, associated_data: bytes) -> bytes:
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("the sealed value is shorter than a nonce and a tag")
    nonce, ciphertext, tag = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:-TAG_BYTES], sealed[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(associated_data)
    try:
        return decryptor.update(ciphertext) + decryptor.finalize()
    except InvalidTag as error:
        raise DecryptionError("authentication failed") from error


def encrypt_text(plaintext: str, *, context: str, ring: KeyRing | None = None) -> str:
    """`plaintext` sealed under the newest key, as stored: "KEYID$BASE64"."""
    ring = ring or key_ring()
    key_id = ring.newest_key_id
    sealed = sm4_gcm_encrypt(
        ring.field_keys[key_id], plaintext.encode("utf-8"), associated_data=context.encode("utf-8")
    )
    return key_id + KEY_ID_SEPARATOR + base64.b64encode(sealed).decode("ascii")


def decrypt_text(stored: str, *, context: str, ring: KeyRing | None = None) -> str:
    """The plaintext of a stored "KEYID$BASE64" value; DecryptionError names the column, never the value."""
    ring = ring or key_ring()
    match = _STORED_PATTERN.match(stored)
    if match is None:
        raise DecryptionError(
            f"{context}: the stored value is not KEYID$BASE64 — written without encryption?"
        )
    key_id, encoded = match.groups()
    key = ring.field_keys.get(key_id)
    if key is None:
        raise DecryptionError(
            f"{context}: the value is encrypted under key {key_id!r}, which is not in GUANAI_FIELD_KEYS"
        )
    try:
        sealed = base64.b64decode(encoded, validate=True)
        return sm4_gcm_decrypt(key, sealed, associated_data=context.encode("utf-8")).decode("utf-8")
    except (binascii.Error, DecryptionError) as error:
        raise DecryptionError(
            f"{context}: the value under key {key_id!r} fails authentication — altered, or copied from "
            "another column"
        ) from error


def stored_key_id(stored: str) -> str | None:
    """The key id in front of a stored value; None when the value is not in the stored format."""
    match = _STORED_PATTERN.match(stored)
    return match.group(1) if match else None


# --- Normalising values for the blind index -----------------------------------------------------


def normalise_text(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def normalise_id_number(value: str) -> str:
    """Full-width characters folded, every space dropped, the check character X upper-cased."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def normalise_phone(value: str) -> str:
    """Digits only: "0571-8888 5678" and "057188885678" are one number."""
    return re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", value))


def normalise_mobile(value: str) -> str:
    """Digits only, without the country code: "+86 139-0571-0001" is 13905710001."""
    digits = normalise_phone(value)
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


NORMALISERS: dict[str, Callable[[str], str]] = {
    "text": normalise_text,
    "id_number": normalise_id_number,
    "mobile": normalise_mobile,
    "phone": normalise_phone,
}
MASK_KINDS = ("name", "id_number", "mobile", "phone", "address", "text")


# --- The field types ----------------------------------------------------------------------------


class EncryptedTextField(models.TextField):
    """Text stored encrypted with SM4-GCM; see the module documentation.

    mask               how the value is shown to those who may not unmask it (`guanai.core.masking`):
                       one of "name", "id_number", "mobile", "phone", "address", "text".
    unmask_permission  the permission that allows `guanai.core.masking.unmask_field`; None: never.
    normaliser         how the blind index normalises the value: "text" (strip), "id_number", "mobile",
                       "phone"; by default the one named like the mask, else "text".
    """

    description = _("加密文本 (SM4-GCM)")

    def __init__(
        self,
        *args: Any,
        mask: str = "text",
        unmask_permission: Permission | str | None = None,
        normaliser: str | None = None,
        **kwargs: Any,
    ) -> None:
        if mask not in MASK_KINDS:
            raise ValueError(f"mask must be one of {', '.join(MASK_KINDS)}, not {mask!r}")
        normaliser = normaliser or (mask if mask in NORMALISERS else "text")
        if normaliser not in NORMALISERS:
            raise ValueError(f"normaliser must be one of {', '.join(NORMALISERS)}, not {normaliser!r}")
        self.mask = mask
        self.unmask_permission = Permission(unmask_permission) if unmask_permission is not None else None
        self.normaliser = normaliser
        super().__init__(*args, **kwargs)

    @property
    def context(self) -> str:
        """The associated data of every ciphertext of this column."""
        return f"{self.model._meta.label_lower}.{self.name}"

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if self.unique or getattr(self, "db_index", False) or self.primary_key:
            errors.append(
                checks.Error(
                    "An EncryptedTextField cannot be unique, indexed or a primary key: its ciphertexts are "
                    "randomised.",
                    hint="Add a BlindIndexField(source=...) and make that unique or indexed.",
                    obj=self,
                    id="guanai.E001",
                )
            )
        return errors

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if self.mask != "text":
            kwargs["mask"] = self.mask
        if self.unmask_permission is not None:
            kwargs["unmask_permission"] = self.unmask_permission.value
        if self.normaliser != (self.mask if self.mask in NORMALISERS else "text"):
            kwargs["normaliser"] = self.normaliser
        return name, path, args, kwargs

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(value, context=self.context)

    def from_db_value(
        self, value: str | None, expression: Any, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_text(value, context=self.context)

    def get_lookup(self, lookup_name: str) -> type[Lookup] | None:
        if lookup_name == "isnull":
            return IsNull
        raise FieldError(self._refusal(lookup_name))

    def get_transform(self, lookup_name: str) -> type[Transform] | None:
        raise FieldError(self._refusal(lookup_name))

    def _refusal(self, lookup_name: str) -> str:
        return (
            f"{self.context} is encrypted: the database cannot compare its values, so the lookup "
            f"{lookup_name!r} is refused (only isnull works). Filter on its BlindIndexField with "
            f"blind_index({self.model.__name__}, {self.name!r}, value)."
        )

    def normalise(self, value: str) -> str:
        return NORMALISERS[self.normaliser](value)

    def blind_index(self, value: str | None, *, ring: KeyRing | None = None) -> str | None:
        """HMAC-SM3 of the normalised value, keyed per column; None for an empty value."""
        if value is None:
            return None
        normalised = self.normalise(value)
        if not normalised:
            return None
        ring = ring or key_ring()
        return hmac_sm3(ring.blind_index_key, f"{self.context}\x00{normalised}".encode()).hex()


class BlindIndexAttribute(DeferredAttribute):
    """Reads as the index of the source's current value (remembered per value), so that unique checks
    in `full_clean`, `save` and `bulk_update` all see the index that belongs with what was assigned."""

    field: BlindIndexField

    def __get__(self, instance: models.Model | None, cls: type[models.Model] | None = None) -> Any:
        if instance is None:
            return self
        source = self.field.source_field()
        if source.attname not in instance.__dict__:  # the source was not loaded: the stored index
            return super().__get__(instance, cls)
        value = instance.__dict__[source.attname]
        memo_key = f"_{self.field.attname}_of"
        memo = instance.__dict__.get(memo_key)
        if memo is None or memo[0] != value:
            memo = (value, source.blind_index(value))
            instance.__dict__[memo_key] = memo
        return memo[1]

    def __set__(self, instance: models.Model, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class BlindIndexField(models.CharField):
    """The HMAC-SM3 blind index of an EncryptedTextField of the same model (`source`).

    64 hex characters, NULL when the source is empty (so `unique=True` allows many empty values),
    indexed unless unique, not editable in forms. The attribute always reads as the index of the
    source's current value; `save(update_fields=...)` naming the source without the index is refused.
    """

    description = _("盲索引 (HMAC-SM3)")
    descriptor_class = BlindIndexAttribute

    def __init__(self, *args: Any, source: str, **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        if not kwargs.get("unique"):
            kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        defaults = {
            "max_length": 64,
            "null": True,
            "blank": True,
            "editable": False,
            "db_index": not self.unique,
        }
        for option, default in defaults.items():
            value = getattr(self, option)
            if value == default:
                kwargs.pop(option, None)
            else:
                kwargs[option] = value
        return name, path, args, kwargs

    def contribute_to_class(self, cls: type[models.Model], name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        if not cls._meta.abstract:
            # Like ImageField's dimension fields: the only way to see `update_fields` is the signal.
            signals.pre_save.connect(self._refuse_source_without_index, sender=cls)

    def _refuse_source_without_index(self, *, update_fields: frozenset[str] | None, **kwargs: Any) -> None:
        if update_fields is not None and self.source in update_fields and self.name not in update_fields:
            raise ValueError(
                f"save(update_fields=...) names {self.source!r} without its blind index {self.name!r}; "
                "name both, or the index would no longer match the value"
            )

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        try:
            source = self.model._meta.get_field(self.source)
        except FieldDoesNotExist:
            source = None
        if not isinstance(source, EncryptedTextField):
            errors.append(
                checks.Error(
                    f"BlindIndexField source {self.source!r} is not an EncryptedTextField of "
                    f"{self.model._meta.label}.",
                    obj=self,
                    id="guanai.E002",
                )
            )
        return errors

    def source_field(self) -> EncryptedTextField:
        field = self.model._meta.get_field(self.source)
        if not isinstance(field, EncryptedTextField):
            raise TypeError(f"{self.model._meta.label}.{self.source} is not an EncryptedTextField")
        return field

    def pre_save(self, model_instance: models.Model, add: bool) -> str | None:
        index: str | None = getattr(model_instance, self.attname)
        return index


def blind_index(model: type[models.Model], field_name: str, value: str | None) -> str | None:
    """The blind index `value` would have in `model.field_name`, for exact lookups and duplicate checks."""
    return encrypted_field(model, field_name).blind_index(value)


def encrypted_field(model: type[models.Model], field_name: str) -> EncryptedTextField:
    field = model._meta.get_field(field_name)
    if not isinstance(field, EncryptedTextField):
        raise TypeError(f"{model._meta.label}.{field_name} is not an EncryptedTextField")
    return field


def stored_ciphertext(field_name: str) -> Cast:
    """The column as stored (the ciphertext), for the few places that must look at it: key rotation."""
    return Cast(field_name, output_field=models.TextField())


# --- Key rotation and encrypting a converted column -----------------------------------------------


def encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    """The encrypted columns of the model's own table (inherited ones belong to the parent's table)."""
    return [field for field in model._meta.local_concrete_fields if isinstance(field, EncryptedTextField)]


def models_with_encrypted_fields() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and encrypted_fields(model)
    ]


def rows_under_older_keys(model: type[models.Model], *, ring: KeyRing | None = None) -> models.QuerySet[Any]:
    """Rows with at least one value not under the newest key; selecting by the stored key id prefix is
    what makes rotation resumable."""
    prefix = (ring or key_ring()).newest_key_id + KEY_ID_SEPARATOR
    stale = models.Q()
    aliases: dict[str, Cast] = {}
    for field in encrypted_fields(model):
        alias = f"stored_{field.name}"
        aliases[alias] = stored_ciphertext(field.name)
        stale |= models.Q(**{f"{alias}__gt": ""}) & ~models.Q(**{f"{alias}__startswith": prefix})
    return model._base_manager.alias(**aliases).filter(stale)


def rotate_model_keys(
    model: type[models.Model], *, batch_size: int = 500, limit: int | None = None
) -> Iterator[int]:
    """Re-encrypt the rows of `model` still under older keys to the newest key, batch by batch (each in
    its own transaction, the batch locked); yields the number of rows done after each batch."""
    names = [field.name for field in encrypted_fields(model)]
    done = 0
    while limit is None or done < limit:
        size = batch_size if limit is None else min(batch_size, limit - done)
        with transaction.atomic():
            batch = list(
                rows_under_older_keys(model).select_for_update().order_by("pk").only("pk", *names)[:size]
            )
            if not batch:
                return
            # Values are decrypted on load and encrypted under the newest key on write; only these
            # columns are written, so auto_now stamps and blind indexes stay as they are.
            model._base_manager.bulk_update(batch, names)
        done += len(batch)
        yield done


def encrypt_plaintext_rows(model: type[models.Model], *, batch_size: int = 500) -> int:
    """Encrypt values still stored as plain text and fill their blind indexes; returns the rows changed.

    For the data migration that turns an existing column into an EncryptedTextField (the schema change
    first, then `migrations.RunPython(lambda apps, schema_editor: encrypt_plaintext_rows(apps.get_model(
    "accounts", "User")))`). Values already in the stored format are left alone, so it can run again.
    """
    ring = key_ring()
    fields = encrypted_fields(model)
    indexes = [field for field in model._meta.local_concrete_fields if isinstance(field, BlindIndexField)]
    aliases = {f"stored_{field.name}": stored_ciphertext(field.name) for field in fields}
    rows = model._base_manager.annotate(**aliases).order_by("pk").values_list("pk", *aliases)
    pending: list[tuple[Any, dict[str, Any]]] = []
    for pk, *stored_values in rows.iterator(chunk_size=batch_size):
        changes: dict[str, Any] = {}
        for field, stored in zip(fields, stored_values, strict=True):
            if stored and stored_key_id(stored) not in ring.field_keys:
                changes[field.name] = stored
                for index in indexes:
                    if index.source == field.name:
                        changes[index.name] = field.blind_index(stored, ring=ring)
        if changes:
            pending.append((pk, changes))
    for start in range(0, len(pending), batch_size):
        with transaction.atomic():
            for pk, changes in pending[start : start + batch_size]:
                model._base_manager.filter(pk=pk).update(**changes)
    return len(pending)


@dataclass(frozen=True)
class EncryptedTableStatus:
    label: str  # the model's verbose name
    fields: tuple[str, ...]
    rows: int
    rows_under_older_keys: int


def key_status() -> tuple[list[str], str, list[EncryptedTableStatus]]:
    """For the security administrator: the key ids (never the keys), the newest, and per table how many
    rows still wait for `rotate_keys`."""
    ring = key_ring()
    tables = [
        EncryptedTableStatus(
            label=str(model._meta.verbose_name),
            fields=tuple(str(field.verbose_name) for field in encrypted_fields(model)),
            rows=model._base_manager.count(),
            rows_under_older_keys=rows_under_older_keys(model, ring=ring).count(),
        )
        for model in models_with_encrypted_fields()
    ]
    return list(ring.field_keys), ring.newest_key_id, tables
