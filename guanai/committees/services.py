from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from guanai import audit
from guanai.committees.models import Committee, CommitteeKind, CommitteeMember, Position
from guanai.core.access import Actor
from guanai.core.errors import ValidationFailed, full_clean_or_fail
from guanai.regions.models import Region


@transaction.atomic
def committee_create(
    *,
    region: Region,
    name: str,
    kind: CommitteeKind | str = CommitteeKind.REGIONAL,
    address: str = "",
    phone: str = "",
    email: str = "",
    actor: Actor | None = None,
) -> Committee:
    committee = Committee(
        region=region, name=name.strip(), kind=CommitteeKind(kind), address=address, phone=phone, email=email
    )
    full_clean_or_fail(committee, exclude=["region"], validate_unique=False, validate_constraints=False)
    if kind == CommitteeKind.REGIONAL and Committee.objects.filter(region=region, kind=kind).exists():
        raise ValidationFailed(fields={"region": [_("该区划已有关工委")]})
    try:
        with transaction.atomic():
            committee.save()
    except IntegrityError as error:
        raise ValidationFailed(fields={"name": [_("该区划下已有同名关工委")]}) from error
    given = {"name": name, "address": address, "phone": phone, "email": email}
    audit.record(
        actor=actor,
        action="committee.create",
        target=committee,
        changes=[key for key, value in given.items() if value],
    )
    return committee


@transaction.atomic
def committee_member_add(
    *,
    committee: Committee,
    name: str,
    position: Position | str,
    office_phone: str = "",
    user_id: int | None = None,
    actor: Actor | None = None,
) -> CommitteeMember:
    member = CommitteeMember(
        committee=committee,
        name=name.strip(),
        position=Position(position),
        office_phone=office_phone,
        user_id=user_id,
    )
    full_clean_or_fail(member, exclude=["committee", "user"])
    member.save()
    audit.record(
        actor=actor,
        action="committee.member_add",
        target=committee,
        changes=["members"],
        detail={"member": member.pk},
    )
    return member


def regional_committee_name(region: Region) -> str:
    """The customary name, e.g. 淳安县关心下一代工作委员会."""
    return f"{region.short_name}关心下一代工作委员会"
