from django.urls import path

from guanai.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("switch-role/", views.switch_assignment, name="switch_assignment"),
    path("preferences/elder-mode/", views.elder_mode, name="elder_mode"),
    path("preferences/language/", views.set_language, name="set_language"),
    path("healthz", views.health, name="health"),
    path("security/keys/", views.key_status_page, name="key_status"),
]
