"""Certificates, their public verification and the honour roll; mounted at the site root, so the paths
are written in full."""

from django.urls import path

from guanai.volunteers import certificate_views

app_name = "certificates"

urlpatterns = [
    # One name for both: reverse("certificates:verify") is the form, with a code its result.
    path("verify/", certificate_views.verify_page, name="verify"),
    path("verify/<str:code>/", certificate_views.verify_page, name="verify"),
    path("volunteers/<int:volunteer_id>/certificates/", certificate_views.certificate_list_page, name="list"),
    path(
        "volunteers/certificates/<int:certificate_id>.pdf",
        certificate_views.certificate_pdf_download,
        name="pdf",
    ),
    path("me/certificate/", certificate_views.my_certificate_page, name="mine"),
    path("honour-roll/", certificate_views.honour_roll_page, name="honour_roll"),
]
