"""The inbox page: the signed-in user's own notifications, with "mark as read"."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .services import inbox_for, notification_mark_read


@login_required
def inbox(request):
    if request.method == "POST":
        notification_id = request.POST.get("id")
        notification_mark_read(actor=request.user,
                               notification_id=int(notification_id) if (notification_id or "").isdigit() else None)
        return redirect("notifications:inbox")
    items = list(inbox_for(request.user)[:100])
    return render(request, "notifications/inbox.html", {"items": items})
