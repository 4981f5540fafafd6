from django.urls import path

from guanai.committees import views

app_name = "committees"

urlpatterns = [
    path("", views.committee_list_page, name="list"),
    path("<int:committee_id>/", views.committee_detail_page, name="detail"),
]
