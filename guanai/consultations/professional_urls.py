"""The professional's conversations, their messages, appointments, closing and referral (/consultations/)."""

from django.urls import URLPattern, path  # noqa: F401

app_name = "consultations"

urlpatterns: list[URLPattern] = []
