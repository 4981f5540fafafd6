from django.urls import path

from guanai.mentoring import views

app_name = "mentoring"

urlpatterns = [
    path("", views.my_cases_page, name="mine"),
    path("new/", views.case_open_page, name="open"),
    path("officer/", views.case_officer_page, name="officer"),
    path("access/", views.break_glass_page, name="break_glass"),
    path("access/<int:grant_id>/revoke/", views.grant_revoke_page, name="grant_revoke"),
    path("<int:case_id>/", views.case_detail_page, name="detail"),
    path("<int:case_id>/reviews/", views.review_add_page, name="review_add"),
    path("<int:case_id>/goals/", views.goal_add_page, name="goal_add"),
    path("<int:case_id>/goals/<int:goal_id>/", views.goal_update_page, name="goal_update"),
    path("<int:case_id>/mentors/", views.mentor_add_page, name="mentor_add"),
    path("<int:case_id>/mentors/<int:mentor_id>/end/", views.mentor_end_page, name="mentor_end"),
    path("<int:case_id>/correction/", views.correction_page, name="correction"),
    path("<int:case_id>/close/", views.close_page, name="close"),
]
