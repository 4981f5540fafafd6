"""The dashboards' pages (/dashboards/)."""

from django.urls import URLPattern, path

from guanai.dashboards import views

app_name = "dashboards"

urlpatterns: list[URLPattern] = [
    path("", views.overview_page, name="overview"),
    path("reports/", views.reports_page, name="reports"),
    path("reports/jobs/", views.report_jobs_partial, name="report_jobs"),
    path("reports/<int:job_id>/download/", views.report_download, name="report_download"),
]
