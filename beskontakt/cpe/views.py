"""Device pages of the workspace: the device card (identity, state, parameters, tasks, sessions)
and queuing an operation on it. Thin: access, one action, render."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from beskontakt.accounts.access import staff_required

from . import actions, profiles
from .access import access_device, can_manage, can_operate
from .display import online_state, task_rows
from .forms import OperationForm
from .models import DeviceParameter, DeviceTask

if TYPE_CHECKING:
    from beskontakt.accounts.models import User

PARAMETERS_SHOWN = 300
TASKS_SHOWN = 30
SESSIONS_SHOWN = 30


@require_GET
@staff_required("device.view")
def device_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The device card."""
    device = access_device(request.user, pk)
    now = timezone.now()
    parameters = list(DeviceParameter.objects.filter(device=device).order_by("path")[:PARAMETERS_SHOWN])
    tasks = list(DeviceTask.objects.filter(device=device).select_related("created_by", "case")[:TASKS_SHOWN])
    sessions = list(device.sessions.all()[:SESSIONS_SHOWN])
    context = {
        "device": device,
        "online": online_state(device, now),
        "parameters": [(p, now - p.updated_at) for p in parameters],
        "tasks": task_rows(tasks),
        "sessions": sessions,
        "can_operate": can_operate(request.user),
        "can_manage": can_manage(request.user),
        "form": OperationForm(),
        "overview": profiles.OVERVIEW,
    }
    return render(request, "cpe/device.html", context)


@require_POST
@staff_required("device.operate")
def device_operate(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue an operation and wake the device (it runs in the ACS; the page shows the task)."""
    device = access_device(request.user, pk)
    user = cast("User", request.user)
    form = OperationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an operation."))
        return redirect("cpe:device", pk=device.pk)
    operation = form.cleaned_data["operation"]
    try:
        if operation == "refresh":
            paths = profiles.profile_for(device.data_model).paths(profiles.OVERVIEW)
            actions.queue_task(device, "GetParameterValues", {"names": paths}, by=user, now=True)
        elif operation == "reboot":
            actions.queue_task(device, "Reboot", {"command_key": "ui"}, by=user, now=True)
        elif operation == "factory_reset":
            actions.queue_task(device, "FactoryReset", {}, by=user, now=True)
        else:
            from .builtin import BuiltinAcs

            outcome = BuiltinAcs(actor=user).reprovision(device.device_id, timeout=0.0)
            if not outcome.ok and not outcome.timed_out:
                messages.error(request, _("The presets could not be queued."))
                return redirect("cpe:device", pk=device.pk)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("cpe:device", pk=device.pk)
    messages.success(request, _("Queued; the device has been asked to call in."))
    return redirect("cpe:device", pk=device.pk)
