"""The knowledge base: public reading and search, professionals' writing (/knowledge/)."""

from django.urls import path

from guanai.consultations import knowledge_views as views

app_name = "knowledge"

urlpatterns = [
    path("", views.list_page, name="list"),
    path("suggest/", views.suggest, name="suggest"),
    path("mine/", views.mine_page, name="mine"),
    path("new/", views.create_page, name="create"),
    path("<int:article_id>/", views.detail_page, name="detail"),
    path("<int:article_id>/edit/", views.edit_page, name="edit"),
    path("<int:article_id>/publish/", views.publish, name="publish"),
    path("<int:article_id>/withdraw/", views.withdraw, name="withdraw"),
]
