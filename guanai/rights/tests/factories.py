"""factory_boy factories for data-subject requests."""

from __future__ import annotations

import datetime

import factory

from guanai.minors.tests.factories import MinorFactory
from guanai.rights.models import DataSubjectRequest
from guanai.rights.vocabulary import Kind, RequesterRole, Verification


class DataSubjectRequestFactory(factory.django.DjangoModelFactory[DataSubjectRequest]):
    class Meta:
        model = DataSubjectRequest

    minor = factory.SubFactory(MinorFactory)
    requester_role = RequesterRole.GUARDIAN
    requester_name = "王秀英"
    requester_contact = "13957100001"
    verification = Verification.HOUSEHOLD_REGISTER
    kind = Kind.ACCESS
    description = "请提供孩子在系统中的全部信息"
    received_on = datetime.date(2026, 11, 20)
    due_on = factory.LazyAttribute(lambda o: o.received_on + datetime.timedelta(days=15))
    minor_version_at_receipt = factory.LazyAttribute(lambda o: o.minor.version)
