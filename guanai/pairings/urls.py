from django.urls import path

from guanai.pairings import views

app_name = "pairings"

urlpatterns = [
    path("", views.pairing_list_page, name="list"),
    path("propose/", views.propose_page, name="propose"),
    path("proposals/<int:run_id>/", views.proposal_run_page, name="proposals"),
    path("proposals/<int:run_id>/accept/", views.proposal_accept_page, name="proposals_accept"),
    path("new/<int:minor_id>/", views.pairing_create_page, name="create"),
    path("new/<int:minor_id>/conflicts/", views.conflict_declare_page, name="conflict_declare"),
    path("<int:pairing_id>/", views.pairing_detail_page, name="detail"),
    path("<int:pairing_id>/activate/", views.pairing_activate_page, name="activate"),
    path("<int:pairing_id>/close/", views.pairing_close_page, name="close"),
]
