"""Staff sign-in (password, then TOTP code or enrolment), sign-out, profile and API tokens.

Until the second factor is verified the user is NOT logged in: the session only
holds a short-lived "pending" marker with the user's id. So a password alone
never opens a session that the web UI or the session-authenticated API would accept.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import actions
from .access import staff_required
from .forms import LoginForm, OtpCodeForm, ProfileForm
from .models import AuditEntry, User
from .ratelimit import login_limiters, otp_limiter

PENDING_KEY = "accounts:pending"
PENDING_TTL_SECONDS = 300


# --- helpers -----------------------------------------------------------------


def wait_text(seconds: int) -> str:
    """'Too many attempts' message with a human wait time."""
    if seconds < 60:
        wait = ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    else:
        minutes = -(-seconds // 60)
        wait = ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    return _("Too many failed attempts. Try again in %(wait)s.") % {"wait": wait}


def _default_next() -> str:
    try:
        return reverse(settings.LOGIN_REDIRECT_URL)
    except NoReverseMatch:
        return reverse("accounts:profile")


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return _default_next()


def set_language_cookie(request: HttpRequest, response: HttpResponse, language: str) -> None:
    """Make ``language`` the interface language from now on (this response and later requests)."""
    if language not in dict(settings.LANGUAGES):
        return
    translation.activate(language)
    request.LANGUAGE_CODE = language
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def _pending_user(request: HttpRequest) -> tuple[User | None, dict[str, Any]]:
    """The user who passed the password step in this session and has not finished the second."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None, {}
    if time.time() - float(pending.get("at", 0)) > PENDING_TTL_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None, {}
    user_pk = pending.get("user")
    if not isinstance(user_pk, int):
        return None, {}
    user = User.objects.filter(pk=user_pk, is_active=True).first()
    if user is None or not user.is_operator_staff:
        return None, {}
    return user, pending


def _restart(request: HttpRequest) -> HttpResponse:
    messages.error(request, _("Your sign-in took too long or was interrupted. Please enter your password again."))
    return redirect("accounts:login")


def _locked(request: HttpRequest, template: str, context: dict[str, Any], seconds: int) -> HttpResponse:
    context["locked_message"] = wait_text(seconds)
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def _complete_login(request: HttpRequest, user: User, device: TOTPDevice, pending: dict[str, Any]) -> HttpResponse:
    """Both factors are good: open the session, mark it verified, switch to the user's language."""
    next_url = _safe_next(request, pending.get("next"))
    request.session.pop(PENDING_KEY, None)
    auth.login(request, user, backend=pending.get("backend") or settings.AUTHENTICATION_BACKENDS[0])
    otp_login(request, device)
    otp_limiter().clear(str(user.pk))
    actions.record_audit(AuditEntry.Action.LOGIN, request=request, actor=user, device=device.persistent_id)
    response = HttpResponseRedirect(next_url)
    set_language_cookie(request, response, user.language)
    return response


def _check_code(
    request: HttpRequest, user: User, device: TOTPDevice, form: OtpCodeForm, template: str, context: dict[str, Any]
) -> HttpResponse | None:
    """Verify a submitted code; ``None`` when it is right, else the page to show."""
    limiter = otp_limiter()
    ident = str(user.pk)
    wait = limiter.wait_seconds(ident)
    if wait:
        actions.record_audit(AuditEntry.Action.LOGIN_LOCKED, request=request, actor=user, step="otp")
        return _locked(request, template, context, wait)
    if not form.is_valid():
        return render(request, template, context, status=400)
    allowed, info = device.verify_is_allowed()
    if not allowed:
        locked_until = (info or {}).get("locked_until")
        seconds = max(1, int((locked_until - timezone.now()).total_seconds()) + 1) if locked_until else 1
        return _locked(request, template, context, seconds)
    if device.verify_token(form.cleaned_data["code"]):
        return None
    actions.record_audit(AuditEntry.Action.LOGIN_FAILED, request=request, actor=user, step="otp")
    lockout = limiter.fail(ident)
    if lockout:
        actions.record_audit(AuditEntry.Action.LOGIN_LOCKED, request=request, actor=user, step="otp", seconds=lockout)
        return _locked(request, template, context, lockout)
    form.add_error("code", _("This code is not right. Check the clock of your phone and try the newest code."))
    return render(request, template, context, status=400)


# --- sign-in -----------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Step one: username and password. Then the code step, or enrolment on first sign-in."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.user.is_authenticated and getattr(request.user, "is_verified", lambda: False)():
        return HttpResponseRedirect(_safe_next(request, next_url))
    template = "accounts/login.html"
    form = LoginForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "next": next_url}
    if request.method != "POST":
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)

    username = form.cleaned_data["username"]
    ip = actions.client_ip(request) or "unknown"
    user_limiter, ip_limiter = login_limiters()
    wait = max(user_limiter.wait_seconds(username), ip_limiter.wait_seconds(ip))
    if wait:
        actions.record_audit(AuditEntry.Action.LOGIN_LOCKED, request=request, username=username, step="password")
        return _locked(request, template, context, wait)

    user = auth.authenticate(request, username=username, password=form.cleaned_data["password"])
    if user is None:
        actions.record_audit(
            AuditEntry.Action.LOGIN_FAILED, request=request, username=username, step="password", reason="credentials"
        )
        lockout = max(user_limiter.fail(username), ip_limiter.fail(ip))
        if lockout:
            actions.record_audit(
                AuditEntry.Action.LOGIN_LOCKED, request=request, username=username, step="password", seconds=lockout
            )
            return _locked(request, template, context, lockout)
        form.add_error(None, _("Wrong username or password."))
        return render(request, template, context, status=400)

    assert isinstance(user, User)
    if not user.is_operator_staff:
        actions.record_audit(
            AuditEntry.Action.LOGIN_FAILED, request=request, actor=user, step="password", reason="not_staff"
        )
        form.add_error(
            None,
            _(
                "Subscriber accounts cannot sign in to the staff workspace. "
                "Please use the subscriber self-care portal instead."
            ),
        )
        return render(request, template, context, status=403)

    user_limiter.clear(username)
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "at": time.time(),
        "backend": getattr(user, "backend", ""),
        "next": next_url,
    }
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("accounts:otp")
    return redirect("accounts:enroll")


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def otp_view(request: HttpRequest) -> HttpResponse:
    """Step two: the six-digit code from the user's authenticator app."""
    user, pending = _pending_user(request)
    if user is None:
        return _restart(request)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        return redirect("accounts:enroll")
    template = "accounts/otp.html"
    form = OtpCodeForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "pending_user": user}
    if request.method != "POST":
        return render(request, template, context)
    refused = _check_code(request, user, device, form, template, context)
    if refused is not None:
        return refused
    return _complete_login(request, user, device, pending)


def qr_svg(data: str) -> str:
    """An inline SVG QR code of ``data``, drawn locally."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg = image.to_string(encoding="unicode")
    return str(svg)


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def enroll_view(request: HttpRequest) -> HttpResponse:
    """First sign-in: register an authenticator app by scanning a QR code, then confirm one code."""
    user, pending = _pending_user(request)
    if user is None:
        return _restart(request)
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("accounts:otp")
    device = actions.pending_totp_device(user)
    template = "accounts/enroll.html"
    form = OtpCodeForm(request.POST or None)
    secret = base64.b32encode(device.bin_key).decode("ascii")
    context: dict[str, Any] = {
        "form": form,
        "pending_user": user,
        "qr_svg": mark_safe(qr_svg(device.config_url)),  # noqa: S308 - SVG generated here, no user input
        "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "issuer": getattr(settings, "OTP_TOTP_ISSUER", "Beskontakt"),
    }
    if request.method != "POST":
        return render(request, template, context)
    refused = _check_code(request, user, device, form, template, context)
    if refused is not None:
        return refused
    actions.confirm_totp_device(device, request=request)
    return _complete_login(request, user, device, pending)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign out (POST only, so a link or an image cannot sign anybody out)."""
    user = request.user
    if user.is_authenticated:
        assert isinstance(user, User)
        actions.record_audit(AuditEntry.Action.LOGOUT, request=request, actor=user)
    auth.logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("accounts:login")


# --- profile and API tokens ----------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def profile_view(request: HttpRequest) -> HttpResponse:
    """The staff member's own settings: language, availability, API token."""
    user = request.user
    assert isinstance(user, User)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            actions.update_preferences(
                user, language=form.cleaned_data["language"], available=form.cleaned_data["available"]
            )
            response = redirect("accounts:profile")
            set_language_cookie(request, response, user.language)
            messages.success(request, _("Your preferences have been saved."))
            return response
        status = 400
    else:
        form = ProfileForm(initial={"language": user.language, "available": user.available})
        status = 200
    context = {
        "form": form,
        "device": TOTPDevice.objects.filter(user=user, confirmed=True).first(),
        "has_token": hasattr(user, "auth_token"),
    }
    return render(request, "accounts/profile.html", context, status=status)


@staff_required
@require_POST
def api_token_view(request: HttpRequest) -> HttpResponse:
    """Create (or replace) the user's REST API token and show it this one time."""
    user = request.user
    assert isinstance(user, User)
    key = actions.issue_api_token(user, request=request, via="web")
    response = render(request, "accounts/token.html", {"token": key})
    response["Cache-Control"] = "no-store"
    return response
