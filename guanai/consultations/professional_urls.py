"""The professional's conversations, their messages, appointments, closing and referral (/consultations/)."""

from django.urls import URLPattern, path

from guanai.consultations import professional_views as views

app_name = "consultations"

urlpatterns: list[URLPattern] = [
    path("conversations/", views.conversations_page, name="conversations"),
    path("appointments/", views.appointments_page, name="appointments"),
    path("<int:pk>/", views.detail_page, name="detail"),
    path("<int:pk>/reply/", views.reply, name="reply"),
    path("<int:pk>/attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("<int:pk>/notes/", views.notes_save, name="notes"),
    path("<int:pk>/appointments/", views.book, name="book"),
    path(
        "<int:pk>/appointments/<int:appointment_id>/cancel/",
        views.appointment_cancel_view,
        name="appointment_cancel",
    ),
    path(
        "<int:pk>/appointments/<int:appointment_id>/done/",
        views.appointment_done_view,
        name="appointment_done",
    ),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/referral/", views.refer, name="refer"),
    path("<int:pk>/phone/", views.unmask_phone, name="unmask_phone"),
]
