from django.urls import path

from guanai.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox_page, name="inbox"),
    path("read/", views.mark_read, name="mark_read"),
]
