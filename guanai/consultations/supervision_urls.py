"""The supervisors' view: volumes, response times, service levels, satisfaction
(/consultations/supervision/)."""

from django.urls import URLPattern, path

from guanai.consultations import supervision_views

app_name = "consultations_supervision"

urlpatterns: list[URLPattern] = [
    path("", supervision_views.overview_page, name="overview"),
    path("requests/", supervision_views.requests_page, name="requests"),
]
