"""Sending SMS. The gateway is pluggable (GUANAI_SMS_BACKEND); by default messages go to the log, which is
enough for the embedded server and the tests. A real gateway implements `SmsBackend.send`."""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, *, mobile: str, message: str) -> None:
        """Deliver `message` to `mobile`; raise SmsDeliveryError when the gateway refuses."""


class SmsDeliveryError(Exception):
    pass


class ConsoleSmsBackend:
    """Writes messages to the log instead of sending them; keeps the last ones for tests."""

    outbox: list[tuple[str, str]] = []

    def send(self, *, mobile: str, message: str) -> None:
        ConsoleSmsBackend.outbox.append((mobile, message))
        del ConsoleSmsBackend.outbox[:-100]
        logger.info("SMS to %s: %s", mobile, message)


def sms_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.GUANAI_SMS_BACKEND)()
    return backend
