"""Visits, overdue follow-ups and mandatory reports. Mounted at the site root (config/urls.py), so the
paths are written in full."""

from django.urls import path

from guanai.pairings import visit_views

app_name = "visits"

urlpatterns = [
    path("visits/mine/", visit_views.my_children_page, name="mine"),
    path("visits/new/<int:pairing_id>/", visit_views.visit_new_page, name="record"),
    path("visits/<int:visit_id>/photo", visit_views.visit_photo, name="photo"),
    path("pairings/overdue/", visit_views.overdue_page, name="overdue"),
    path("mandatory-reports/", visit_views.reports_page, name="reports"),
    path("mandatory-reports/<int:report_id>/", visit_views.report_detail_page, name="report_detail"),
]
