"""The public face: intake (/help/), the requester's reading and writing back with the retrieval code."""

from django.urls import URLPattern, path  # noqa: F401

app_name = "consultations_public"

urlpatterns: list[URLPattern] = []
