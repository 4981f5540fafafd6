"""Writing a roster's valid rows, a chunk at a time: each row matched with the person on record it is.

Shared by the imports of children and of volunteers; each importer's BatchWriter says how a row makes a
new record and changes an existing one. A person is known by the ID number: a row is the record with
the same blind index (`id_number_index`), wherever it is; inside the import region it is updated,
outside it the row is refused "已在某县登记" (naming the county only, as registering does). A row whose
ID number is not on record, or that has none, is the record without an ID number that has the same
name, birth date and village (pinyin is not used: 张三明 and 章三明 share it and are two people); a row
with an ID number gives such a record its ID number. Within one file the same ID number (or, without
one, the same name, birth date and village) a second time refuses the later row, and so does a second
row that is the same record.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar, cast

from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from guanai.core import region_codes
from guanai.core.access import Actor
from guanai.core.crypto import blind_index
from guanai.imports.results import ImportResult, RowError
from guanai.regions.models import Region

WRITE_BATCH_SIZE = 500


class PreparedRow(Protocol):
    """A valid row, ready to be matched and written: its Excel row number, the model values of the
    columns the file has (with at least name and birth_date), the ID number, the village's code."""

    @property
    def number(self) -> int: ...
    @property
    def values(self) -> dict[str, Any]: ...
    @property
    def id_number(self) -> str | None: ...
    @property
    def region_id(self) -> str: ...

    id_index: str | None  # the ID number's blind index, set when the row is matched


class PersonRecord(Protocol):
    """The fields of a record on file that matching reads and a write sets (a model's fields are typed
    only once django-stubs has read the model: hence `as_person` rather than a bound on RecordT)."""

    @property
    def pk(self) -> Any: ...
    @property
    def name(self) -> str: ...
    @property
    def birth_date(self) -> datetime.date: ...
    @property
    def region_id(self) -> str: ...
    @property
    def id_number_index(self) -> str | None: ...

    @property
    def version(self) -> int: ...
    @version.setter
    def version(self, value: int) -> None: ...
    @property
    def updated_at(self) -> datetime.datetime: ...
    @updated_at.setter
    def updated_at(self, value: datetime.datetime) -> None: ...


class NamesColumns(Protocol):
    """The row reader, which knows the header text of the column a field was read from."""

    def column_name(self, key: str) -> str: ...


def as_person(record: models.Model) -> PersonRecord:
    return cast(PersonRecord, record)


def id_key(id_number: str) -> int:
    """The ID number as one integer (X as 10): a million of them in a set take ~60 MB, not ~170 MB."""
    check = id_number[17]
    return int(id_number[:17]) * 11 + (10 if check == "X" else int(check))


RowT = TypeVar("RowT", bound=PreparedRow)
RecordT = TypeVar("RecordT", bound=models.Model)
Identity = tuple[str, datetime.date, str]  # name, birth date, village code


class RosterBatchWriter(Generic[RowT, RecordT]):
    """Matches prepared rows with the records on file and writes them, a chunk at a time.

    A subclass names its `model`, the refusals that name the kind of person, the fields derived from
    others that a bulk update must write too, and its `write(chunk)`, which starts from `match(chunk)`
    and ends with `save(...)`.
    """

    model: type[RecordT]
    # Lazily translated: "库中有多名同名、同出生日期、同村且无身份证号的…" when more than one record
    # without an ID number matches a row, "与本表前面的行是同一名…" when two rows are one such record.
    ambiguous_message: Promise
    same_record_message: Promise
    # field → the fields written with it (the blind index of an encrypted field, the pinyin of a name)
    derived_fields: Mapping[str, frozenset[str]] = {}

    def __init__(
        self,
        *,
        actor: Actor | None,
        region: Region,
        dry_run: bool,
        result: ImportResult,
        reader: NamesColumns,
    ) -> None:
        self.actor = actor
        self.region = region
        self.dry_run = dry_run
        self.result = result
        self.reader = reader
        self.seen_ids: set[int] = set()
        self.seen_without_id: set[Identity] = set()
        self.matched_without_id: set[Any] = set()
        self.counties: dict[str, str] = {}
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.user = actor.user if actor is not None else None

    def write(self, chunk: list[RowT]) -> None:
        """Match the chunk's rows, make the new records and change the matched ones: the subclass's."""
        raise NotImplementedError

    def refuse(self, row: RowT, code: str, message: str, key: str = "id_number") -> None:
        self.result.errors.append(
            RowError(
                row.number, self.reader.column_name(key) or self.reader.column_name("name"), code, message
            )
        )

    def accept(self, row: RowT) -> bool:
        """False (and the row refused) when the file already had this person."""
        if row.id_number:
            key = id_key(row.id_number)
            if key in self.seen_ids:
                self.refuse(row, "duplicate_in_file", _("身份证号与本表前面的行重复"))
                return False
            self.seen_ids.add(key)
            return True
        identity = (row.values["name"], row.values["birth_date"], row.region_id)
        if identity in self.seen_without_id:
            self.refuse(row, "duplicate_in_file", _("姓名、出生日期和所在村与本表前面的行相同"), key="name")
            return False
        self.seen_without_id.add(identity)
        return True

    def match(self, chunk: Sequence[RowT]) -> list[tuple[RowT, RecordT | None]]:
        """Each row of the chunk with the record it is, None for a new person; a row that is a record
        outside the import region, or that could be more than one, is refused and left out."""
        for row in chunk:
            if row.id_number:
                row.id_index = blind_index(self.model, "id_number", row.id_number)
        by_index = {
            as_person(record).id_number_index: record
            for record in self.records(id_number_index__in=[row.id_index for row in chunk if row.id_index])
        }
        unmatched = [row for row in chunk if row.id_index not in by_index]
        by_identity: dict[Identity, list[RecordT]] = {}
        if unmatched:
            candidates = self.records(
                id_number_index__isnull=True,
                region_id__in={row.region_id for row in unmatched},
                name__in={row.values["name"] for row in unmatched},
                birth_date__in={row.values["birth_date"] for row in unmatched},
            )
            for record in candidates:
                person = as_person(record)
                by_identity.setdefault((person.name, person.birth_date, person.region_id), []).append(record)

        matches: list[tuple[RowT, RecordT | None]] = []
        for row in chunk:
            existing = by_index.get(row.id_index) if row.id_index else None
            if existing is not None and not region_codes.is_within(
                as_person(existing).region_id, self.region.code
            ):
                county = self.county_name(as_person(existing).region_id)
                self.refuse(row, "registered_elsewhere", _("已在%(county)s登记") % {"county": county})
                continue
            if existing is None:
                identity = by_identity.get((row.values["name"], row.values["birth_date"], row.region_id), [])
                if len(identity) > 1:
                    self.refuse(row, "ambiguous_match", str(self.ambiguous_message), key="name")
                    continue
                if identity:
                    existing = identity[0]
                    if existing.pk in self.matched_without_id:
                        self.refuse(row, "duplicate_in_file", str(self.same_record_message), key="name")
                        continue
                    self.matched_without_id.add(existing.pk)
            matches.append((row, existing))
        return matches

    def records(self, **lookups: Any) -> list[RecordT]:
        return list(self.model._default_manager.filter(**lookups))

    def mark_changed(self, record: RecordT) -> None:
        """A record whose values changed: one version more, updated now."""
        person = as_person(record)
        person.version += 1
        person.updated_at = self.now

    def save(self, created: list[RecordT], changed: list[RecordT], changed_fields: set[str]) -> None:
        """Count the chunk's new and changed records and, unless this is a dry run, write them: the new
        with one bulk insert, the changed with one bulk update of the fields that changed."""
        self.result.created += len(created)
        self.result.updated += len(changed)
        if self.dry_run:
            return
        manager = self.model._default_manager
        manager.bulk_create(created, batch_size=WRITE_BATCH_SIZE)
        if changed:
            fields = set(changed_fields) | {"version", "updated_at"}
            for field, derived in self.derived_fields.items():
                if field in changed_fields:
                    fields |= derived
            manager.bulk_update(changed, sorted(fields), batch_size=WRITE_BATCH_SIZE)

    def county_name(self, region_code: str) -> str:
        county_code = region_code[:6].ljust(12, "0")
        if county_code not in self.counties:
            county = Region.objects.filter(code=county_code).first()
            self.counties[county_code] = county.name if county else county_code[:6]
        return self.counties[county_code]
