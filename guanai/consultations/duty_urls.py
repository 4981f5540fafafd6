"""The queue (accept, decline), reassignment and the duty rosters (/consultations/)."""

from django.urls import URLPattern, path  # noqa: F401

app_name = "consultations_duty"

urlpatterns: list[URLPattern] = []
