"""The public face: intake (/help/), the requester's reading and writing back with the retrieval code."""

from django.urls import path, register_converter

from guanai.consultations import public_views as views


class ReferenceConverter:
    """A reference as typed or linked: letters and digits, never longer than a reference can be."""

    regex = "[0-9A-Za-z]{4,16}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferenceConverter, "consultation_reference")

app_name = "consultations_public"

urlpatterns = [
    path("", views.home, name="home"),
    path("ask/", views.ask, name="ask"),
    path("ask/topics/", views.topics, name="topics"),
    path("ask/regions/", views.regions, name="regions"),
    path("done/", views.done, name="done"),
    path("my/", views.retrieve, name="retrieve"),
    path("my/<consultation_reference:reference>/", views.conversation_page, name="conversation"),
    path("my/<consultation_reference:reference>/messages/", views.message, name="message"),
    path("my/<consultation_reference:reference>/appointments/", views.book, name="book"),
    path(
        "my/<consultation_reference:reference>/appointments/<int:appointment_id>/cancel/",
        views.cancel,
        name="cancel",
    ),
    path("my/<consultation_reference:reference>/rating/", views.rate, name="rate"),
    path("my/<consultation_reference:reference>/leave/", views.leave, name="leave"),
    path(
        "my/<consultation_reference:reference>/attachments/<int:attachment_id>/",
        views.attachment,
        name="attachment",
    ),
]
