import time
from base64 import b32encode
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from yiwang.geography.models import Area

from . import services
from .forms import ApiTokenForm, LoginForm, TokenForm
from .middleware import LOGIN_AT_KEY, SESSION_MARKER_COOKIE
from .models import ApiToken
from .roles import VIEW_AREA
from .selectors import CURRENT_AREA_KEY


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        self.request.session[LOGIN_AT_KEY] = time.time()
        services.login_record(user=form.get_user())
        response.set_cookie(SESSION_MARKER_COOKIE, "1", httponly=True, samesite="Lax")
        return response


def lockout_response(request, credentials, *args, **kwargs):
    """django-axes calls this when a username is locked out."""
    form = LoginForm(request)
    return render(request, "accounts/login.html", {
        "form": form,
        "lockout": _("Too many failed sign-ins. This account is locked for 15 minutes; "
                     "ask your administrator if you need access sooner."),
    }, status=403)


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        response.delete_cookie(SESSION_MARKER_COOKIE)
        return response


def _safe_next(request, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@login_required
def two_factor(request):
    """Verify a TOTP code, enrolling a new authenticator first if the user has none."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first() or \
            TOTPDevice.objects.create(user=request.user, name="authenticator", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect(_safe_next(request))
        form.add_error("token", _("That code is not correct or has expired. Try the current one."))
    context = {"form": form, "enrolling": enrolling, "next": _safe_next(request)}
    if enrolling:
        image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
        buffer = BytesIO()
        image.save(buffer)
        context["qr_svg"] = buffer.getvalue().decode()
        context["secret"] = b32encode(device.bin_key).decode()
    return render(request, "accounts/two_factor.html", context)


@login_required
def api_tokens(request):
    new_key = None
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_key = services.api_token_create(actor=request.user, name=form.cleaned_data["name"])
            form = ApiTokenForm()
        except ValidationError as exc:
            form.add_error(None, exc)
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "accounts/api_tokens.html", {"form": form, "tokens": tokens, "new_key": new_key})


@login_required
@require_POST
def api_token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("accounts:api_tokens")


@login_required
@require_POST
def area_switch(request):
    area = Area.objects.visible_to(request.user, VIEW_AREA).filter(pk=request.POST.get("area")).first()
    if area is None:
        messages.error(request, _("That area is not available to you."))
    else:
        request.session[CURRENT_AREA_KEY] = area.path
    return redirect(_safe_next(request))
