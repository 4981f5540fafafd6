"""The words of a data-subject request (个人信息保护法 art.44–47): who asks, how they were verified,
what they ask for, and where the request stands."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RequesterRole(models.TextChoices):
    GUARDIAN = "guardian", _("监护人")
    # A child of 14 or over exercises the rights personally (个人信息保护法 art.31: consent of a child under
    # 14 is the guardian's; from 14 the child's own).
    CHILD = "child", _("儿童本人（已满14周岁）")


class Verification(models.TextChoices):
    """How the requester's identity, and for a guardian the guardianship, were checked."""

    ID_CARD = "id_card", _("核验本人居民身份证")
    HOUSEHOLD_REGISTER = "household_register", _("核验户口簿（含监护关系）")
    GUARDIANSHIP_PROOF = "guardianship_proof", _("核验监护关系证明（村/居委会或民政部门出具）")
    GUARDIAN_ON_RECORD = "guardian_on_record", _("当面核实为在册监护人，并核验身份证件")


class Kind(models.TextChoices):
    ACCESS = "access", _("查阅")
    COPY = "copy", _("复制")
    CORRECTION = "correction", _("更正、补充")
    DELETION = "deletion", _("删除")


# The reminders, and the list's "due soon", start this many days before a request's last day.
DUE_SOON_DAYS = 3

# The kinds answered by handing over a copy of what the system holds about the child.
COPY_KINDS = frozenset({Kind.ACCESS, Kind.COPY})


class Status(models.TextChoices):
    RECEIVED = "received", _("办理中")
    COMPLETED = "completed", _("已办结")
    REFUSED = "refused", _("不予办理")
