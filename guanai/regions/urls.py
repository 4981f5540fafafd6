from django.urls import path

from guanai.regions import views

app_name = "regions"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("<str:code>/", views.detail, name="detail"),
]
