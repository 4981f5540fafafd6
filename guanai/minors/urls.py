from django.urls import path

from guanai.minors import views

app_name = "minors"

urlpatterns = [
    path("", views.minor_list_page, name="list"),
    path("new/", views.minor_create_page, name="create"),
    path("transfer-requests/", views.transfer_request_page, name="transfer_request"),
    path("duplicates/", views.duplicates_page, name="duplicates"),
    path("duplicates/<int:flag_id>/merge/", views.duplicate_merge_page, name="duplicate_merge"),
    path("duplicates/<int:flag_id>/dismiss/", views.duplicate_dismiss_page, name="duplicate_dismiss"),
    path("export/", views.export_page, name="export"),
    path("exports/", views.exports_page, name="exports"),
    path("exports/<int:approval_id>/download/", views.export_download_page, name="export_download"),
    path("exports/<int:approval_id>/<slug:decision>/", views.export_decide_page, name="export_decide"),
    path("import/", views.import_page, name="import"),
    path("import/template.xlsx", views.import_template_download, name="import_template"),
    path("import/batches/<int:batch_id>/", views.import_batch_page, name="import_batch"),
    path("import/batches/<int:batch_id>/errors.xlsx", views.import_errors_download, name="import_errors"),
    path("import/<slug:token>/", views.import_mapping_page, name="import_mapping"),
    path("import/<slug:token>/commit/", views.import_commit_page, name="import_commit"),
    path("<int:minor_id>/", views.minor_detail_page, name="detail"),
    path("<int:minor_id>/edit/", views.minor_edit_page, name="edit"),
    path("<int:minor_id>/close/", views.minor_close_page, name="close"),
    path("<int:minor_id>/unmask/<slug:field>/", views.minor_unmask, name="unmask"),
    path("<int:minor_id>/guardians/<int:guardian_id>/unmask/", views.guardian_unmask, name="guardian_unmask"),
    path(
        "<int:minor_id>/consents/<int:consent_id>/withdraw/",
        views.consent_withdraw_page,
        name="consent_withdraw",
    ),
]
