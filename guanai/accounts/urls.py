from django.urls import path

from guanai.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.security, name="security"),
    path("password/", views.password_change, name="password_change"),
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/recovery-codes/", views.recovery_codes_new, name="recovery_codes_new"),
    path("keepalive/", views.keepalive, name="keepalive"),
    path("sms-login/", views.sms_login, name="sms_login"),
    path("users/", views.users, name="users"),
    path("users/<int:user_id>/unmask/mobile/", views.user_unmask_mobile, name="user_unmask_mobile"),
]
