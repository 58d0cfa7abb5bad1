"""The desk queue page `/desk/`, its live part and event stream, and the item buttons (claim,
release, snooze, wake, hand over) that htmx posts and that work as plain forms too."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from frontdesk.accounts.policy import Action, policy, staff_clinic, staff_user
from frontdesk.audit.services import audit_context
from frontdesk.desk import live, selectors, services
from frontdesk.desk.pools import Pool
from frontdesk.desk.selectors import DeskFilter
from frontdesk.lib.clinic_time import clinic_zone
from frontdesk.lib.ids import parse_id
from frontdesk.lib.live import stream_open

OPERATIONS = ("claim", "release", "snooze", "wake", "hand_over")


def _choices(request: HttpRequest, data: Any) -> tuple[str, DeskFilter, int]:
    user = staff_user(request)
    kinds = {s.kind for s in selectors.visible_sources(user.role)}
    kind = data.get("kind", "")
    kind = kind if kind in kinds else ""
    show = data.get("show", "")
    view = DeskFilter(show) if show in DeskFilter.values else DeskFilter.ALL
    page = parse_id(data.get("page", "")) or 1
    return kind, view, min(page, 10_000)


def _query(kind: str, view: DeskFilter, page: int = 1) -> str:
    params = {k: v for k, v in (("show", view.value), ("kind", kind)) if v}
    if page > 1:
        params["page"] = str(page)
    return urlencode(params)


def _context(
    request: HttpRequest,
    kind: str,
    view: DeskFilter,
    page: int,
    *,
    problem: dict[str, str] | None = None,
    done: dict[str, str] | None = None,
) -> dict[str, object]:
    user = staff_user(request)
    clinic = staff_clinic(user)
    now = timezone.now()
    query = _query(kind, view, page)
    result = selectors.desk_queue_for_view(
        user, context=audit_context(request), now=now, kind=kind, view=view, page=page
    )
    return {
        "desk": result,
        "kind": kind,
        "view": view,
        "filters": DeskFilter.choices,
        # Not "query": the shell's patient search box shows that one.
        "filter_query": query,
        "query_suffix": f"?{query}" if query else "",
        "previous_query": _query(kind, view, page - 1),
        "next_query": _query(kind, view, page + 1),
        "version": live.desk_version(clinic.pk),
        "problem": problem or {},
        "done": done or {},
        # The one row a message is for, so that the other rows ask one question, not two.
        "notice_key": (problem or done or {}).get("key", ""),
        "pools": Pool,
        "now_local": now.astimezone(clinic_zone(clinic)),
    }


@policy(Action.DESK_QUEUE_VIEW)
def queue_view(request: HttpRequest) -> HttpResponse:
    kind, view, page = _choices(request, request.GET)
    return render(request, "desk/queue.html", _context(request, kind, view, page))


@policy(Action.DESK_QUEUE_VIEW)
def queue_fragment_view(request: HttpRequest) -> HttpResponse:
    """The queue's live part. With ?since=N, answers 204 (nothing to swap) when nothing has
    changed since version N."""
    user = staff_user(request)
    text = request.GET.get("since", "")
    since = int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None
    if since is not None and since == live.desk_version(staff_clinic(user).pk):
        return HttpResponse(status=204)
    kind, view, page = _choices(request, request.GET)
    return render(request, "desk/_queue.html", _context(request, kind, view, page))


async def _event_stream(clinic_id: int, since: int) -> AsyncGenerator[str, None]:
    yield "retry: 1000\n\n"
    async for version in live.desk_changes(clinic_id, since=since):
        if version is None:
            yield ": still here\n\n"
        else:
            yield f"event: desk\ndata: {json.dumps({'version': version})}\n\n"


@policy(Action.DESK_QUEUE_VIEW)
def queue_events_view(request: HttpRequest) -> HttpResponseBase:
    """Server-sent events: one `desk` event per committed change of the clinic's desk work. The
    stream holds one of the server's stream threads while the page is open; when all of them
    are taken the answer is 204 and the page polls."""
    clinic = staff_clinic(staff_user(request))
    since = parse_id(request.GET.get("since", "")) or 0
    stream = stream_open(_event_stream(clinic.pk, since))
    if stream is None:
        return HttpResponse(status=204)
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # proxies must pass events on at once
    return response


def _local_time(text: str, request: HttpRequest) -> dt.datetime | None:
    """A time typed or picked in the clinic's zone ("2026-12-07T14:30" or "2026-12-07 14:30")."""
    text = text.strip().replace("T", " ")
    try:
        naive = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=clinic_zone(staff_clinic(staff_user(request))))


def _act(request: HttpRequest, kind: str, ref: int, operation: str) -> str:
    """Run the one service of `operation`; its success in words."""
    user = staff_user(request)
    context = audit_context(request)
    if operation == "claim":
        services.desk_item_claim(context=context, user=user, kind=kind, ref=ref)
        return "It is yours now."
    if operation == "release":
        services.desk_item_release(context=context, user=user, kind=kind, ref=ref)
        return "Given back to the queue."
    if operation == "wake":
        services.desk_item_wake(context=context, user=user, kind=kind, ref=ref)
        return "Back on the queue."
    if operation == "snooze":
        typed = request.POST.get("until", "")
        until = _local_time(typed, request)
        if typed.strip() and until is None:
            raise services.DeskRefusedError(
                "That is not a time: pick one, or type it like 2026-12-07 14:30."
            )
        services.desk_item_snooze(
            context=context,
            user=user,
            kind=kind,
            ref=ref,
            until=until,
            reason=request.POST.get("reason", ""),
        )
        return "Snoozed: it comes back at the time you chose."
    target = request.POST.get("to", "")
    who, _, value = target.partition(":")
    to_user_id = parse_id(value) if who == "person" else None
    if who == "person" and to_user_id is None:
        raise services.DeskRefusedError("Choose one person or one pool to hand it to.")
    services.desk_item_hand_over(
        context=context,
        user=user,
        kind=kind,
        ref=ref,
        to_user_id=to_user_id,
        to_pool=value if who == "pool" else "",
    )
    return "Handed over."


def _item_forms(
    request: HttpRequest, kind: str, ref: int, problem: dict[str, str], *, page: bool
) -> HttpResponse:
    user = staff_user(request)
    row = selectors.desk_item_for_view(
        user, context=audit_context(request), kind=kind, ref=ref, now=timezone.now()
    )
    if row is None:
        raise Http404("This item is no longer on the desk queue.")
    context = {"row": row, "problem": problem}
    if page:
        status = 400 if problem else 200
        return render(request, "desk/item.html", context, status=status)
    response = render(request, "desk/_item_forms.html", context)
    # The forms post to the whole list; a refusal comes back in place of the forms.
    response["HX-Retarget"] = f"#more-{kind}-{ref}"
    response["HX-Reswap"] = "innerHTML"
    return response


@policy(Action.DESK_ITEM_ACT)
def item_view(request: HttpRequest, kind: str, ref_id: int) -> HttpResponse:
    """GET: the snooze and hand-over forms of one item (a fragment for htmx, else a page).
    POST: claim, release, snooze, wake or hand over."""
    ref = ref_id
    if not selectors.KIND_PATTERN.match(kind):
        raise Http404("No such item")
    htmx = request.headers.get("HX-Request") == "true"
    if request.method != "POST":
        return _item_forms(request, kind, ref, {}, page=not htmx)
    operation = request.POST.get("do", "")
    if operation not in OPERATIONS:
        raise Http404("No such action")
    # The list's filters ride in the form's address, so the list comes back as it was.
    filters, view, page = _choices(request, request.GET)
    try:
        done = _act(request, kind, ref, operation)
    except services.DeskItemGoneError as exc:
        problem = {"key": "page", "message": str(exc)}
        if htmx:
            return render(
                request, "desk/_queue.html", _context(request, filters, view, page, problem=problem)
            )
        context = _context(request, filters, view, page, problem=problem)
        return render(request, "desk/queue.html", context, status=409)
    except services.DeskRefusedError as exc:
        problem = {
            "key": f"{kind}:{ref}",
            "operation": operation,
            "message": str(exc),
            "reason": request.POST.get("reason", "")[:200],
            "until": request.POST.get("until", "")[:40],
            "to": request.POST.get("to", "")[:40],
        }
        if operation in ("snooze", "hand_over"):
            return _item_forms(request, kind, ref, problem, page=not htmx)
        context = _context(request, filters, view, page, problem=problem)
        if htmx:
            return render(request, "desk/_queue.html", context)
        return render(request, "desk/queue.html", context, status=400)
    if htmx:
        notice = {"key": f"{kind}:{ref}", "message": done}
        return render(
            request, "desk/_queue.html", _context(request, filters, view, page, done=notice)
        )
    messages.success(request, done)
    query = _query(filters, view, page)
    return redirect(reverse("desk:queue") + (f"?{query}" if query else ""))
