from django.urls import URLPattern

app_name = "cafes"

urlpatterns: list[URLPattern] = []
