from __future__ import annotations

import datetime

from celery import shared_task
from django.utils import timezone

from guanai.accounts.models import SmsCode


@shared_task(name="accounts.purge_sms_codes")
def purge_sms_codes() -> int:
    """Codes are useless after five minutes; their digests are kept a day for rate-limit questions."""
    deleted, _ = SmsCode.objects.filter(expires_at__lt=timezone.now() - datetime.timedelta(days=1)).delete()
    return deleted
