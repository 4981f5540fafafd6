from django.urls import path

from guanai.cafes import views

app_name = "cafes"

urlpatterns = [
    path("", views.cafe_list_page, name="list"),
    path("new/", views.cafe_create_page, name="create"),
    # 网吧巡查: the inspector's own page, on a phone.
    path("inspect/", views.inspector_home_page, name="inspector_home"),
    path("findings/", views.finding_list_page, name="findings"),
    path("findings/<int:finding_id>/", views.finding_detail_page, name="finding_detail"),
    path("findings/<int:finding_id>/follow-up/", views.finding_follow_up_page, name="finding_follow_up"),
    path("findings/<int:finding_id>/close/", views.finding_close_page, name="finding_close"),
    path("inspections/<int:inspection_id>/", views.inspection_detail_page, name="inspection_detail"),
    path(
        "inspections/<int:inspection_id>/photos/<int:photo_id>/",
        views.photo_file_page,
        name="inspection_photo",
    ),
    path("<int:cafe_id>/", views.cafe_detail_page, name="detail"),
    path("<int:cafe_id>/edit/", views.cafe_edit_page, name="edit"),
    path("<int:cafe_id>/close/", views.cafe_close_page, name="close"),
    path("<int:cafe_id>/unmask/phone/", views.cafe_phone_unmask, name="unmask_phone"),
    path("<int:cafe_id>/inspections/new/", views.inspection_record_page, name="inspection_record"),
    path("<int:cafe_id>/inspect/", views.inspect_page, name="inspect"),
]
