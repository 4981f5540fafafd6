from django.urls import URLPattern

app_name = "pairings"

urlpatterns: list[URLPattern] = []
