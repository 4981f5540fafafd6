from django.urls import path

from guanai.accounts import role_views, views

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
    path("roles/", role_views.roles, name="roles"),
    path("roles/review/", role_views.role_review_due, name="role_review_due"),
    path("roles/<int:assignment_id>/end/", role_views.role_end_page, name="role_end"),
    path("roles/<int:assignment_id>/review/", role_views.role_review_page, name="role_review"),
    path("roles/requests/", role_views.role_requests, name="role_requests"),
    path("roles/requests/new/", role_views.role_request_new, name="role_request_new"),
    path("roles/requests/<int:grant_request_id>/", role_views.role_request, name="role_request"),
    path(
        "roles/requests/<int:grant_request_id>/withdraw/",
        role_views.role_request_withdraw,
        name="role_request_withdraw",
    ),
]
