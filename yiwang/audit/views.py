from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from .filtersets import AuditEventFilterSet
from .selectors import VIEW_AUDIT, audit_event_list_visible_to


@login_required
def audit_list(request):
    if not request.user.has_perm_anywhere(VIEW_AUDIT):
        raise PermissionDenied
    filterset = AuditEventFilterSet(request.GET or None, queryset=audit_event_list_visible_to(request.user))
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(request, "audit/audit_list.html", {"filter": filterset, "page": page})
