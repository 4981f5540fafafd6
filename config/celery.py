"""The Celery app. With CELERY_BROKER_URL unset (the embedded default) tasks run eagerly in-process;
with it set (Redis in production) they go to the worker. Periodic work is in CELERY_BEAT_SCHEDULE."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("guanai")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
