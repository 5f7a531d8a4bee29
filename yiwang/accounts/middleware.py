"""Session lifetime and two-factor enforcement."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

SESSION_MARKER_COOKIE = "yw_signed_in"
LOGIN_AT_KEY = "yw_login_at"
SEEN_AT_KEY = "yw_seen_at"
SEEN_EVERY_SECONDS = 60


class SessionExpiryMiddleware:
    """Ends sessions past their absolute lifetime, keeps idle ones alive, and tells users why they were
    signed out.

    Idle expiry is Django's own (SESSION_COOKIE_AGE counted from the session's last save). Instead of
    saving the session on every request (SESSION_SAVE_EVERY_REQUEST: a write per page view), an active
    session is saved when its last save is SEEN_EVERY_SECONDS old, so the idle timeout is exact to
    within that minute. A marker cookie that outlives the session lets us say "your session expired"
    instead of a bare login page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        expired = False
        if request.user.is_authenticated:
            now = time.time()
            login_at = request.session.get(LOGIN_AT_KEY)
            if login_at and now - login_at > settings.YIWANG_SESSION_ABSOLUTE_SECONDS:
                logout(request)
                expired = True
            elif now - request.session.get(SEEN_AT_KEY, 0) > SEEN_EVERY_SECONDS:
                request.session[SEEN_AT_KEY] = now  # marks the session modified: saved, expiry pushed back
        elif request.COOKIES.get(SESSION_MARKER_COOKIE):
            expired = True
        if expired:
            if request.path.startswith("/api/"):
                response = JsonResponse({"error": {"status": 401, "code": "session_expired",
                                                   "message": _("Your session has expired. Please sign in again.")}},
                                        status=401)
                response.delete_cookie(SESSION_MARKER_COOKIE)
                return response
            messages.warning(request, _("Your session has expired. Please sign in again."))
        response = self.get_response(request)
        if expired:
            response.delete_cookie(SESSION_MARKER_COOKIE)
        return response


ALWAYS_ALLOWED_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/accounts/login/", "/static/", "/i18n/",
                           "/healthz")


class TwoFactorRequiredMiddleware:
    """Administrators and dispatchers must pass TOTP before anything else, when the setting is on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (settings.YIWANG_REQUIRE_2FA and user.is_authenticated and user.requires_two_factor()
                and not user.is_verified() and not request.path.startswith(ALWAYS_ALLOWED_PREFIXES)
                and not request.META.get("HTTP_AUTHORIZATION")):
            if request.path.startswith("/api/"):
                return JsonResponse({"error": {"status": 403, "code": "two_factor_required",
                                               "message": _("Two-factor authentication is required.")}},
                                    status=403)
            return redirect(f"{reverse('accounts:two_factor')}?next={request.get_full_path()}")
        return self.get_response(request)
