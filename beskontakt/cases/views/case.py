"""The case page and the actions an agent takes on it.

Every POST parses one form and calls one action from ``cases/actions.py``;
an action's ``ValidationError`` comes back as errors on the form's fields
(the page is shown again with status 400), never as a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from beskontakt.accounts.access import staff_required
from beskontakt.accounts.roles import user_can
from beskontakt.inbox.models import CallbackRequest
from beskontakt.inbox.outbox import reply_channels
from beskontakt.subscribers.views import panel_context

from .. import actions, sla
from ..access import access_case, visible_cases
from ..actions import TRANSITIONS
from ..attachments import download_response
from ..forms import (
    AssignForm,
    CallbackOutcomeForm,
    CategoryForm,
    LinkForm,
    MergeForm,
    NoteForm,
    PriorityForm,
    QueueForm,
    ReplyForm,
    StatusForm,
    TagsForm,
    apply_errors,
)
from ..models import Attachment, Case, CaseStatus, Macro, SlaClock
from .common import format_duration, wants_partial
from .timeline import build_timeline

CLOCK_ORDER = [SlaClock.Kind.FIRST_RESPONSE, SlaClock.Kind.NEXT_RESPONSE, SlaClock.Kind.RESOLUTION]


@dataclass
class ClockView:
    """What the SLA panel shows for one clock."""

    clock: SlaClock
    remaining: str
    css: str
    overdue: bool = False


def clock_views(case: Case) -> list[ClockView]:
    """The case's SLA clocks with the business time left on each."""
    now = timezone.now()
    clocks = {c.kind: c for c in SlaClock.objects.filter(case=case)}
    views = []
    for kind in CLOCK_ORDER:
        clock = clocks.get(kind)
        if clock is None:
            continue
        clock.case = case
        left = sla.remaining_seconds(clock, now)
        if clock.state == SlaClock.State.RUNNING:
            if clock.breached_at or (left is not None and left < 0):
                css = "sla-breached"
            elif clock.warned_at:
                css = "sla-warning"
            else:
                css = "sla-ok"
            remaining = format_duration(abs(left) if left is not None else None)
        elif clock.state == SlaClock.State.PAUSED:
            css, remaining = "sla-paused", format_duration(left)
        elif clock.state == SlaClock.State.BREACHED:
            css, remaining = "sla-breached", "—"
        elif clock.state == SlaClock.State.MET:
            css, remaining = "sla-ok", "—"
        else:
            css, remaining = "muted", "—"
        overdue = clock.state in (SlaClock.State.RUNNING, SlaClock.State.PAUSED) and left is not None and left < 0
        views.append(ClockView(clock=clock, remaining=remaining, css=css, overdue=overdue))
    return views


def _initial_forms(case: Case) -> dict[str, forms.Form]:
    return {
        "reply": ReplyForm(),
        "note": NoteForm(),
        "take": forms.Form(),
        "assign": AssignForm(initial={"assignee": case.assignee_id}),
        "status": StatusForm(),
        "priority": PriorityForm(initial={"priority": case.priority}),
        "category": CategoryForm(initial={"category": case.category_id}),
        "queue": QueueForm(initial={"queue": case.queue_id}),
        "tags": TagsForm(initial={"tags": ", ".join(t.name for t in case.tags.all())}),
        "merge": MergeForm(),
        "link": LinkForm(),
        "callback": CallbackOutcomeForm(),
    }


def _render_case(
    request: HttpRequest, case: Case, bound: dict[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    page_forms = _initial_forms(case)
    page_forms.update(bound or {})
    user = request.user
    context: dict[str, Any] = {
        "case": case,
        "timeline": build_timeline(case),
        "clocks": clock_views(case),
        "forms": page_forms,
        "status_choices": [(s, CaseStatus(s).label) for s in CaseStatus.values if s in TRANSITIONS[case.status]],
        "related": list(case.related.all()[:20]),
        "children": list(visible_cases(user).filter(parent=case).only("pk", "subject", "status")[:20]),
        "can_take": user_can(user, "case.take") and case.assignee_id in (None, user.pk) and case.is_active,
    }
    context["reply_channels"] = reply_channels(case)
    context["callback"] = CallbackRequest.objects.filter(case=case).first()
    if case.subscriber is not None:
        context.update(panel_context(case.subscriber, user, exclude_case=case.pk))
    return render(request, "cases/detail.html", context, status=status)


@require_GET
@staff_required("case.view")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The case page: header, SLA clocks, timeline, composer, actions and the subscriber panel."""
    return _render_case(request, access_case(request.user, pk))


@require_GET
@staff_required("case.view")
def sla_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The SLA clocks fragment the case page refreshes every 30 seconds."""
    case = access_case(request.user, pk)
    return render(request, "cases/_sla.html", {"case": case, "clocks": clock_views(case)})


@require_GET
@staff_required("case.reply")
def macro_text(request: HttpRequest, pk: int) -> HttpResponse:
    """The reply textarea filled with a macro's text for this case (the macro picker asks for it)."""
    case = access_case(request.user, pk)
    # htmx swaps only 2xx answers: a fragment with the error is sent as 200 to htmx, 400 otherwise.
    error_status = 200 if wants_partial(request) else 400
    try:
        macro = ReplyForm.base_fields["macro"].clean(request.GET.get("macro"))
        text = actions.apply_macro(case, macro=macro, by=request.user) if isinstance(macro, Macro) else ""
    except ValidationError as exc:
        context = {"form": ReplyForm(), "error": " ".join(exc.messages)}
        return render(request, "cases/_reply_body.html", context, status=error_status)
    return render(request, "cases/_reply_body.html", {"form": ReplyForm(initial={"body": text})})


@require_GET
@staff_required("case.view")
def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """Download a message's file; 404 unless its case is one the user may see."""
    found = Attachment.objects.select_related("message").filter(pk=pk).first()
    if found is None:
        raise Http404("no such file")
    access_case(request.user, found.message.case_id)
    # A streamed FileResponse; staff_required's type only knows HttpResponse.
    return download_response(found)  # type: ignore[return-value]


# --- POST actions ---------------------------------------------------------------------------

Perform = Callable[[HttpRequest, Case, dict[str, Any]], Any]


def _other_case(request: HttpRequest, number: int, field: str) -> Case:
    try:
        return access_case(request.user, number)
    except Http404:
        raise ValidationError({field: _("There is no case #%(n)s you can see.") % {"n": number}}) from None


def _reply(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    then = CaseStatus.WAITING_SUBSCRIBER if data.get("wait") else None
    actions.reply(
        case,
        by=request.user,
        body=data["body"],
        then_status=then,
        channel=data.get("channel") or None,
        attachments=data.get("attachments") or None,
    )
    return gettext_lazy("Reply sent.")


def _callback(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    from beskontakt.inbox import callbacks

    callback = CallbackRequest.objects.filter(case=case).first()
    if callback is None:
        raise ValidationError({"case": gettext_lazy("This case is not a callback request.")})
    callbacks.record_outcome(callback, reached=data["reached"], by=request.user, note=data.get("note") or "")
    return gettext_lazy("Call recorded.")


def _note(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    actions.add_note(case, by=request.user, body=data["body"])
    return gettext_lazy("Note added.")


def _take(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    actions.take(case, by=request.user)
    return gettext_lazy("The case is yours now.")


def _assign(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    actions.assign(case, to=data.get("assignee"), by=request.user)
    return gettext_lazy("Assignee changed.")


def _status(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    actions.change_status(case, to=data["status"], by=request.user, reason=data.get("reason") or "")
    return gettext_lazy("Status changed.")


def _priority(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    actions.set_priority(case, priority=data["priority"], by=request.user)
    return gettext_lazy("Priority changed.")


def _category(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    actions.set_category(case, category=data.get("category"), by=request.user)
    return gettext_lazy("Category changed.")


def _queue(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    actions.move_to_queue(case, queue=data.get("queue"), by=request.user)
    return gettext_lazy("Queue changed.")


def _tags(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    actions.set_tags(case, names=data.get("tags") or [], by=request.user)
    return gettext_lazy("Tags saved.")


def _merge(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    target = _other_case(request, data["into"], "into")
    survivor = actions.merge(case, into=target, by=request.user)
    return gettext_lazy("Merged."), survivor.pk


def _link(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    other = _other_case(request, data["other"], "other")
    actions.link(case, other=other, kind=data["kind"], by=request.user)
    return gettext_lazy("Cases linked.")


ACTIONS: dict[str, tuple[type[forms.Form], str, Perform]] = {
    "reply": (ReplyForm, "case.reply", _reply),
    "note": (NoteForm, "case.note", _note),
    "take": (forms.Form, "case.take", _take),
    "assign": (AssignForm, "case.assign", _assign),
    "status": (StatusForm, "case.change_status", _status),
    "priority": (PriorityForm, "case.change_status", _priority),
    "category": (CategoryForm, "case.change_status", _category),
    "queue": (QueueForm, "case.change_status", _queue),
    "tags": (TagsForm, "case.change_status", _tags),
    "merge": (MergeForm, "case.merge", _merge),
    "link": (LinkForm, "case.link", _link),
    "callback": (CallbackOutcomeForm, "case.reply", _callback),
}
# Where an action's error keys land on its form.
ALIASES = {
    "reply": {"case": "__all__", "files": "attachments"},
    "take": {"assignee": "__all__"},
    "merge": {"case": "__all__"},
    "callback": {"case": "__all__", "callback": "__all__"},
}


def _make_action_view(key: str) -> Callable[..., HttpResponse]:
    form_class, capability, perform = ACTIONS[key]

    @require_POST
    @staff_required(capability)
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        case = access_case(request.user, pk)
        form = form_class(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = perform(request, case, form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc, ALIASES.get(key))
            else:
                target = case.pk
                if isinstance(result, tuple):
                    result, target = result
                messages.success(request, str(result))
                return redirect("cases:detail", pk=target)
        case = access_case(request.user, pk)
        return _render_case(request, case, {key: form}, status=400)

    view.__name__ = f"case_{key}"
    view.__doc__ = f"POST: the ``{key}`` action on a case."
    return view


reply = _make_action_view("reply")
note = _make_action_view("note")
take = _make_action_view("take")
assign = _make_action_view("assign")
change_status = _make_action_view("status")
set_priority = _make_action_view("priority")
set_category = _make_action_view("category")
move_to_queue = _make_action_view("queue")
set_tags = _make_action_view("tags")
merge = _make_action_view("merge")
link = _make_action_view("link")
callback = _make_action_view("callback")
