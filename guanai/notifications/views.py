"""The inbox (通知): alerts, reminders and notices addressed to the signed-in user."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from guanai.core.access import Permission, permission_required
from guanai.notifications.selectors import notifications_of
from guanai.notifications.services import notifications_mark_read

PAGE_SIZE = 30


@require_GET
@permission_required(Permission.SIGNED_IN)
def inbox_page(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications_of(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})


@require_POST
@permission_required(Permission.SIGNED_IN)
def mark_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (`id`) or all of them read; only the user's own are touched."""
    chosen = request.POST.get("id", "")
    notifications_mark_read(user=request.user, notification_ids=[int(chosen)] if chosen.isdigit() else None)
    return HttpResponseRedirect(reverse("notifications:inbox"))
