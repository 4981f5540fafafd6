"""The queue (accept, decline), reassignment and the duty rosters (/consultations/)."""

from django.urls import path

from guanai.consultations import duty_views

app_name = "consultations_duty"

urlpatterns = [
    path("queue/", duty_views.queue_page, name="queue"),
    path("<int:consultation_id>/accept/", duty_views.accept, name="accept"),
    path("<int:consultation_id>/decline/", duty_views.decline, name="decline"),
    path("<int:consultation_id>/reassign/", duty_views.reassign_page, name="reassign"),
    path("duty/", duty_views.roster_page, name="roster"),
    path("duty/mine/", duty_views.my_duty_page, name="mine"),
    path("duty/<int:volunteer_id>/", duty_views.roster_edit_page, name="roster_edit"),
]
