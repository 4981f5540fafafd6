from __future__ import annotations

from typing import Self

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanai.consultations.vocabulary import (
    AppointmentMode,
    AppointmentState,
    ArticleState,
    ContactPreference,
    DeclineReason,
    DutyPart,
    EscalationLevel,
    Kind,
    Outcome,
    ReferralState,
    Requester,
    Sender,
    State,
    Topic,
)
from guanai.core import access
from guanai.core.access import Actor, RegionScoped, RegionScopedQuerySet
from guanai.core.crypto import EncryptedTextField


class ConsultationQuerySet(RegionScopedQuerySet["Consultation"]):
    def visible_to(self, actor: Actor) -> Self:
        """Requests a supervisor may see the metadata of (kind, topic, region, times, state): inside their
        region. Never the words, the name or the contact: those only the assigned professional reads."""
        return self.filter(access.consultation_supervision_q(actor))

    def assigned_to_actor(self, actor: Actor) -> Self:
        """Requests the signed-in professional has been assigned or has accepted."""
        if actor.user is None or not actor.has(access.Permission.CONSULTATION_ANSWER):
            return self.none()
        return self.filter(assigned_to__user=actor.user)


class Consultation(RegionScoped, models.Model):
    """A request for legal or psychological help, made online by a child, a guardian or a teacher, with
    no account (DOMAIN.md §8). The requester reads replies with the reference and a retrieval code, of
    which only a keyed digest is kept. What identifies the requester (name, phone, the words) is
    encrypted and shown only to the professional assigned; supervisors see metadata and service clocks."""

    reference = models.CharField(_("受理编号"), max_length=16, unique=True)
    retrieval_digest = models.CharField(max_length=64, editable=False)
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    topic = models.CharField(_("问题类型"), max_length=24, choices=Topic.choices)
    requester = models.CharField(_("求助人"), max_length=10, choices=Requester.choices)
    requester_age = models.PositiveSmallIntegerField(_("未成年人年龄"), null=True, blank=True)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("所在地区"), on_delete=models.PROTECT, related_name="+"
    )
    requester_name = EncryptedTextField(_("称呼"), blank=True, default="", mask="name")
    contact_phone = EncryptedTextField(
        _("联系电话"), blank=True, default="", mask="phone", normaliser="phone"
    )
    contact_preference = models.CharField(
        _("联系方式"), max_length=8, choices=ContactPreference.choices, default=ContactPreference.ONLINE
    )
    description = EncryptedTextField(_("问题描述"))
    # 个人信息保护法 art.31: a child under 14 who leaves contact details does so with a guardian's consent.
    consent_version = models.CharField(_("告知书版本"), max_length=20)
    guardian_consent = models.BooleanField(_("监护人已同意"), default=False)
    # Crisis triage: set at intake (and when a later message signals danger); never cleared.
    is_urgent = models.BooleanField(_("紧急"), default=False)
    crisis_signals = models.JSONField(_("危机信号"), default=list, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.WAITING)
    # The professional the request is offered to or was accepted by; an urgent request is offered to
    # every professional on duty at once and has nobody here until one accepts.
    assigned_to = models.ForeignKey(
        "volunteers.Volunteer",
        verbose_name=_("承办志愿者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultations",
    )
    assigned_at = models.DateTimeField(_("分派时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(
        _("上报层级"), choices=EscalationLevel.choices, default=EscalationLevel.REGION
    )
    escalated_at = models.DateTimeField(_("上报时间"), null=True, blank=True)
    # Service-level clocks: an urgent request is accepted within GUANAI_CRISIS_ACCEPT_MINUTES; a
    # requester's online message is answered within GUANAI_CONSULTATION_REPLY_HOURS.
    accept_due_at = models.DateTimeField(_("受理期限"), null=True, blank=True)
    reply_due_at = models.DateTimeField(_("答复期限"), null=True, blank=True)
    accept_breached = models.BooleanField(_("受理超时"), default=False)
    reply_breached = models.BooleanField(_("答复超时"), default=False)
    first_reply_at = models.DateTimeField(_("首次答复时间"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("最近留言时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    outcome = models.CharField(_("处理结果"), max_length=16, choices=Outcome.choices, blank=True)
    summary = EncryptedTextField(_("结案小结"), blank=True, default="")
    # The professional's own counselling notes: never shown to the requester or to supervisors.
    notes = EncryptedTextField(_("咨询记录"), blank=True, default="")
    service_hours = models.DecimalField(_("服务时长"), max_digits=4, decimal_places=1, null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    rating_comment = models.CharField(_("评价"), max_length=200, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    objects = ConsultationQuerySet.as_manager()

    class Meta:
        verbose_name = _("咨询求助")
        verbose_name_plural = _("咨询求助")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "accept_due_at"], name="consultation_accept_clock"),
            models.Index(fields=["state", "reply_due_at"], name="consultation_reply_clock"),
            models.Index(fields=["assigned_to", "state"], name="consultation_assignee_state"),
            # Covering: a page of the supervisors' list reads its ids from the index alone.
            models.Index(fields=["region", "created_at"], include=["id"], name="consultation_region_created"),
            # The nightly erasure finds the requests closed before the retention period.
            models.Index(fields=["closed_at"], condition=Q(state="closed"), name="consultation_closed_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="consultation_rating_one_to_five",
            ),
            models.CheckConstraint(
                condition=~Q(state="closed") | ~Q(outcome=""), name="consultation_closed_has_outcome"
            ),
            models.CheckConstraint(
                condition=~Q(state="accepted") | Q(assigned_to__isnull=False),
                name="consultation_accepted_has_professional",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class ConsultationDecline(models.Model):
    """A professional who passed a request on (a conflict of interest, unavailable): routing never offers
    it to them again."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="declines")
    volunteer = models.ForeignKey("volunteers.Volunteer", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("原因"), max_length=20, choices=DeclineReason.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("退回记录")
        verbose_name_plural = _("退回记录")
        constraints = [
            models.UniqueConstraint(fields=["consultation", "volunteer"], name="consultation_decline_once")
        ]

    def __str__(self) -> str:
        return f"{self.consultation_id} {self.volunteer_id}"


class Message(models.Model):
    """One message of the conversation between the requester and the professional (or a note of the
    system's, such as "转交给另一位志愿者"). Encrypted: it is the requester's own words."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(_("发送方"), max_length=12, choices=Sender.choices)
    author = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = EncryptedTextField(_("内容"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("留言")
        verbose_name_plural = _("留言")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["consultation", "created_at"], name="message_consultation_time")]

    def __str__(self) -> str:
        return f"{self.consultation_id} {self.sender} {self.created_at:%Y-%m-%d %H:%M}"


class Attachment(models.Model):
    """A file sent with a message, kept in private storage under a random name (never served by the web
    server); photos are stripped of their metadata like every photo the platform takes."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    stored_name = models.CharField(max_length=100, unique=True)
    original_name = models.CharField(_("文件名"), max_length=120)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField(_("大小"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.original_name


class DutySlotQuerySet(RegionScopedQuerySet["DutySlot"]):
    pass


class DutySlot(RegionScoped, models.Model):
    """A weekly duty slot of a professional (值班表): a part of one weekday, for one kind of help, covering
    a region (requests from inside it are routed to whoever is on duty). The province's on-duty lead
    (`is_lead`) is the last step of a crisis' escalation."""

    volunteer = models.ForeignKey(
        "volunteers.Volunteer", verbose_name=_("志愿者"), on_delete=models.CASCADE, related_name="duty_slots"
    )
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("服务地区"), on_delete=models.PROTECT, related_name="+"
    )
    weekday = models.PositiveSmallIntegerField(_("星期"))  # 0 = Monday
    part = models.PositiveSmallIntegerField(_("时段"), choices=DutyPart.choices)
    is_lead = models.BooleanField(_("值班负责人"), default=False)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DutySlotQuerySet.as_manager()

    class Meta:
        verbose_name = _("值班时段")
        verbose_name_plural = _("值班时段")
        ordering = ["weekday", "part", "volunteer_id"]
        indexes = [models.Index(fields=["kind", "weekday", "part"], name="duty_slot_when")]
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "kind", "weekday", "part"], name="duty_slot_once_per_part"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="duty_slot_weekday_0_6"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.kind} {self.weekday}/{self.part}"


class Appointment(models.Model):
    """A booked conversation by phone, video or in person, in one of the professional's free hours."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="appointments")
    volunteer = models.ForeignKey("volunteers.Volunteer", on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(_("方式"), max_length=10, choices=AppointmentMode.choices)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    state = models.CharField(
        _("状态"), max_length=10, choices=AppointmentState.choices, default=AppointmentState.BOOKED
    )
    booked_by = models.CharField(_("预约方"), max_length=12, choices=Sender.choices)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("预约")
        verbose_name_plural = _("预约")
        ordering = ["starts_at", "id"]
        constraints = [
            # A professional's hour is booked once.
            models.UniqueConstraint(
                fields=["volunteer", "starts_at"],
                condition=Q(state="booked"),
                name="appointment_one_booking_per_hour",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="appointment_ends_after"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consultation_id} {self.starts_at:%Y-%m-%d %H:%M}"


class LegalAidReferral(models.Model):
    """A legal request converted into an application for legal aid (法律援助法). A minor without income
    needs no means test (art.42): the referral records the exemption."""

    consultation = models.OneToOneField(Consultation, on_delete=models.PROTECT, related_name="referral")
    referred_to = models.CharField(_("法律援助机构"), max_length=100)
    means_test_exempt = models.BooleanField(_("免予经济困难审查"), default=False)
    exemption_ground = models.CharField(_("免审依据"), max_length=100, blank=True)
    facts = EncryptedTextField(_("案情摘要"))
    state = models.CharField(
        _("状态"), max_length=10, choices=ReferralState.choices, default=ReferralState.SUBMITTED
    )
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("法律援助转介")
        verbose_name_plural = _("法律援助转介")

    def __str__(self) -> str:
        return f"{self.consultation_id} → {self.referred_to}"


class ArticleQuerySet(models.QuerySet["Article"]):
    def published(self) -> Self:
        return self.filter(state=ArticleState.PUBLISHED)


class Article(models.Model):
    """A question and its answer on minors' rights or mental health (知识库), written by a professional
    and published for everyone; suggested to a requester while they type."""

    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    topic = models.CharField(_("问题类型"), max_length=24, choices=Topic.choices)
    question = models.CharField(pgettext_lazy("knowledge base question", "问题"), max_length=200)
    answer = models.TextField(_("解答"))
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    # Question, keywords and answer lower-cased, for search; written by the service.
    search_text = models.TextField(editable=False, default="")
    author = models.ForeignKey(
        "volunteers.Volunteer", verbose_name=_("作者"), on_delete=models.PROTECT, related_name="articles"
    )
    state = models.CharField(
        _("状态"), max_length=10, choices=ArticleState.choices, default=ArticleState.DRAFT
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    view_count = models.PositiveIntegerField(_("阅读次数"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        verbose_name = _("知识问答")
        verbose_name_plural = _("知识问答")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["state", "kind", "topic"], name="article_state_kind_topic")]

    def __str__(self) -> str:
        return self.question
