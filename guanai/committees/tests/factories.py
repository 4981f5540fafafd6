from __future__ import annotations

import factory

from guanai.committees.models import Committee, CommitteeKind, CommitteeMember, Position


class CommitteeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Committee

    region_id = "330127000000"
    kind = CommitteeKind.REGIONAL
    name = factory.Sequence(lambda n: f"测试关工委{n}")
    phone = "0571-65012345"


class CommitteeMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommitteeMember

    committee = factory.SubFactory(CommitteeFactory)
    name = factory.Sequence(lambda n: f"成员{n}")
    position = Position.MEMBER
