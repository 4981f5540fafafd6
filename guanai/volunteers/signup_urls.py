"""Mounted at the site root (config/urls.py), so the paths are full: the public sign-up under /join/, the
township's review and the invitations under /volunteers/, and 我的 at /me/."""

from django.urls import path, re_path

from guanai.volunteers import signup_views as views

app_name = "volunteer_signup"

urlpatterns = [
    path("join/", views.signup, name="signup"),
    path("join/code/", views.send_code, name="send_code"),
    path("join/regions/", views.regions, name="regions"),
    path("join/done/", views.done, name="done"),
    path("join/status/", views.status, name="status"),
    path("join/status/<int:volunteer_id>/edit/", views.resubmit, name="resubmit"),
    # An invitation's token (secrets.token_urlsafe(24): 32 characters); never one of the words above.
    re_path(r"^join/(?P<token>[A-Za-z0-9_-]{20,100})/$", views.signup_invited, name="signup_invited"),
    path("volunteers/applications/", views.applications, name="applications"),
    path("volunteers/applications/<int:volunteer_id>/approve/", views.approve, name="approve"),
    path("volunteers/applications/<int:volunteer_id>/return/", views.return_application, name="return"),
    path("volunteers/invitations/", views.invitations, name="invitations"),
    path(
        "volunteers/invitations/<int:invitation_id>/revoke/",
        views.revoke_invitation,
        name="revoke_invitation",
    ),
    path("me/", views.mine, name="mine"),
    path("me/claim/", views.claim, name="claim"),
    path("me/honour-roll/", views.honour_roll, name="honour_roll"),
]
