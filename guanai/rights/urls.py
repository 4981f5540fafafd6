from django.urls import path

from guanai.rights import views

app_name = "rights"

urlpatterns = [
    path("", views.subject_request_list_page, name="list"),
    path("new/<int:minor_id>/", views.subject_request_create_page, name="create"),
    path("<int:subject_request_id>/", views.subject_request_detail_page, name="detail"),
    path("<int:subject_request_id>/contact/", views.subject_request_unmask_contact, name="unmask_contact"),
    path("<int:subject_request_id>/copy/", views.subject_request_copy_page, name="copy"),
    path("<int:subject_request_id>/complete/", views.subject_request_complete_page, name="complete"),
    path("<int:subject_request_id>/refuse/", views.subject_request_refuse_page, name="refuse"),
    path("<int:subject_request_id>/erase/", views.subject_request_erase_page, name="erase"),
    path("<int:subject_request_id>/letter/", views.subject_request_letter_page, name="letter"),
]
