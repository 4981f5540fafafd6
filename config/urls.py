from django.urls import include, path

from config.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("guanai.web.urls")),
    path("committees/", include("guanai.committees.urls")),
    path("minors/", include("guanai.minors.urls")),
    path("rights/", include("guanai.rights.urls")),
    path("audit/", include("guanai.audit.urls")),
    path("volunteers/", include("guanai.volunteers.urls")),
    # The public sign-up (/join/), the township's review, invitations and 我的 (/me/).
    path("", include("guanai.volunteers.signup_urls")),
    # Certificates, their public verification (/verify/) and the honour roll.
    path("", include("guanai.volunteers.certificate_urls")),
    path("pairings/", include("guanai.pairings.urls")),
    # Visits (a volunteer's phone form), overdue follow-up and mandatory reports.
    path("", include("guanai.pairings.visit_urls")),
    path("mentoring/", include("guanai.mentoring.urls")),
    path("cafes/", include("guanai.cafes.urls")),
    path("notifications/", include("guanai.notifications.urls")),
    # Online legal and psychological help: the public intake and the requester's pages (/help/), the
    # knowledge base (/knowledge/), and the professionals' and supervisors' pages (/consultations/).
    path("help/", include("guanai.consultations.public_urls")),
    path("knowledge/", include("guanai.consultations.knowledge_urls")),
    path("consultations/supervision/", include("guanai.consultations.supervision_urls")),
    path("consultations/", include("guanai.consultations.duty_urls")),
    path("consultations/", include("guanai.consultations.professional_urls")),
    # Indicators with drill-down, the annual work report and the statistical returns.
    path("dashboards/", include("guanai.dashboards.urls")),
    # The security administrator's impact assessments and personal-information incidents.
    path("compliance/", include("guanai.compliance.urls")),
]

handler404 = "guanai.web.views.not_found"
handler500 = "guanai.web.views.server_error"
urlpatterns += [path("regions/", include("guanai.regions.urls"))]
urlpatterns += [path("account/", include("guanai.accounts.urls"))]
