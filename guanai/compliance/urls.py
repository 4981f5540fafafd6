from django.urls import path

from guanai.compliance import views

app_name = "compliance"

urlpatterns = [
    path("incidents/", views.incident_list_page, name="incidents"),
    path("incidents/new/", views.incident_create_page, name="incident_create"),
    path("incidents/<int:incident_id>/", views.incident_detail_page, name="incident_detail"),
    path("incidents/<int:incident_id>/edit/", views.incident_edit_page, name="incident_edit"),
    path("incidents/<int:incident_id>/authority/", views.incident_authority_page, name="incident_authority"),
    path(
        "incidents/<int:incident_id>/individuals/",
        views.incident_individuals_page,
        name="incident_individuals",
    ),
    path(
        "incidents/<int:incident_id>/not-notify/", views.incident_not_notify_page, name="incident_not_notify"
    ),
    path(
        "incidents/<int:incident_id>/notice-required/",
        views.incident_notice_required_page,
        name="incident_notice_required",
    ),
    path("incidents/<int:incident_id>/contain/", views.incident_contain_page, name="incident_contain"),
    path("incidents/<int:incident_id>/close/", views.incident_close_page, name="incident_close"),
    path("assessments/", views.assessment_list_page, name="assessments"),
    path("assessments/new/", views.assessment_create_page, name="assessment_create"),
    path("assessments/<int:assessment_id>/", views.assessment_detail_page, name="assessment_detail"),
    path("assessments/<int:assessment_id>/delete/", views.assessment_delete_page, name="assessment_delete"),
]
