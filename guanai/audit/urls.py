from django.urls import path

from guanai.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_event_list_page, name="list"),
    path("report/", views.audit_report_page, name="report"),
]
