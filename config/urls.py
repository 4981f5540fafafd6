from django.urls import include, path

from config.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("guanai.web.urls")),
    path("committees/", include("guanai.committees.urls")),
    path("minors/", include("guanai.minors.urls")),
    path("audit/", include("guanai.audit.urls")),
]

handler404 = "guanai.web.views.not_found"
handler500 = "guanai.web.views.server_error"
urlpatterns += [path("regions/", include("guanai.regions.urls"))]
urlpatterns += [path("account/", include("guanai.accounts.urls"))]
