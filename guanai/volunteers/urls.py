from django.urls import path

from guanai.volunteers import views

app_name = "volunteers"

urlpatterns = [
    path("", views.volunteer_list_page, name="list"),
    path("new/", views.volunteer_create_page, name="create"),
    path("export/", views.export_page, name="export"),
    path("exports/", views.exports_page, name="exports"),
    path("exports/<int:approval_id>/download/", views.export_download_page, name="export_download"),
    path("exports/<int:approval_id>/<slug:decision>/", views.export_decide_page, name="export_decide"),
    path("hours/pending/", views.hours_pending_page, name="hours_pending"),
    path("hours/<int:record_id>/confirm/", views.hours_confirm_page, name="hours_confirm"),
    path("hours/<int:record_id>/return/", views.hours_return_page, name="hours_return"),
    path("teams/", views.team_list_page, name="teams"),
    path("teams/new/", views.team_create_page, name="team_create"),
    path("teams/<int:team_id>/", views.team_detail_page, name="team_detail"),
    path("teams/<int:team_id>/members/add/", views.team_member_add_page, name="team_member_add"),
    path(
        "teams/<int:team_id>/members/<int:volunteer_id>/remove/",
        views.team_member_remove_page,
        name="team_member_remove",
    ),
    path("teams/<int:team_id>/activities/new/", views.team_activity_page, name="team_activity"),
    path("<int:volunteer_id>/", views.volunteer_detail_page, name="detail"),
    path("<int:volunteer_id>/edit/", views.volunteer_edit_page, name="edit"),
    path("<int:volunteer_id>/status/", views.volunteer_status_page, name="status"),
    path("<int:volunteer_id>/check/", views.volunteer_check_page, name="check"),
    path("<int:volunteer_id>/unmask/<slug:field>/", views.volunteer_unmask, name="unmask"),
    path("<int:volunteer_id>/hours/", views.hours_record_page, name="hours"),
    path("<int:volunteer_id>/hours/<int:record_id>/correct/", views.hours_correct_page, name="hours_correct"),
    path("<int:volunteer_id>/training/", views.training_add_page, name="training_add"),
    path("<int:volunteer_id>/honours/", views.honour_add_page, name="honour_add"),
]
