"""The supervisors' view: volumes, response times, service levels, satisfaction (/consultations/supervision/)."""

from django.urls import URLPattern, path  # noqa: F401

app_name = "consultations_supervision"

urlpatterns: list[URLPattern] = []
