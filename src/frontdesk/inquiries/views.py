"""Pages of calls, callbacks, contacts and medical questions. Each authorises with the policy,
parses a form, calls one service or audited selector, and renders."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from frontdesk.accounts.models import User
from frontdesk.accounts.policy import Action, policy, role_may, staff_user
from frontdesk.audit.services import audit_context
from frontdesk.inquiries import selectors, services
from frontdesk.inquiries.disclosure import disclosure_verdict
from frontdesk.inquiries.forms import (
    AnswerForm,
    AttemptForm,
    CallForm,
    ContactForm,
    RelayForm,
    SettingsForm,
    caller_choice_parts,
)
from frontdesk.inquiries.models import MESSAGE_MAX, AnswerRoute, Category, TaskStatus
from frontdesk.lib.form_posts import form_post_run
from frontdesk.lib.ids import parse_id

# Where a complaint is taken (the complaints app's intake page), with the patient named.
COMPLAINT_PATH = "/complaints/new/?patient={}"


def _refusal_to_form(form: Any, exc: services.InquiryRefusedError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@policy(Action.INQUIRY_LOG)
def call_new_view(request: HttpRequest) -> HttpResponse:
    """Log a call or a conversation at the desk: who, about what, their words, the number."""
    user = staff_user(request)
    context = audit_context(request)
    source = request.POST if request.method == "POST" else request.GET
    page = selectors.call_page_for_view(
        user,
        context=context,
        patient_id=parse_id(source.get("patient", "")),
        query=request.GET.get("q", "")[:100],
    )
    patient = page.patient
    initial = {"callback_phone": patient.phone if patient else "", "callback_wanted": True}
    form = CallForm(
        request.POST if request.method == "POST" else None,
        contacts=page.contacts,
        with_patient=patient is not None,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        kind, contact_id = form.caller_parts()
        data = form.cleaned_data
        call = services.CallRequest(
            patient=patient,
            channel="desk" if data["at_desk"] else "phone",
            caller_kind=kind,
            contact_id=contact_id,
            caller_name=data["caller_name"],
            caller_relationship=data["caller_relationship"],
            category=data["category"],
            message=data["message"],
            callback_phone=data["callback_phone"],
            preferred_time=data["preferred_time"],
            urgency="urgent" if data["urgent"] else "routine",
            callback_wanted=data["callback_wanted"],
        )
        try:
            inquiry = services.inquiry_log(context=context, user=user, request=call)
        except services.InquiryRefusedError as exc:
            _refusal_to_form(form, exc)
        else:
            messages.success(request, "The call is logged.")
            return redirect("inquiries:call", call_id=inquiry.pk)
    return render(
        request,
        "inquiries/call_new.html",
        {"form": form, "page": page, "patient": patient, **_shown_while_typing(user, form, page)},
    )


def _shown_while_typing(user: User, form: CallForm, page: selectors.CallPage) -> dict[str, Any]:
    """A form sent back (a field missing) shows again what the page showed while it was typed:
    what may be told to the caller chosen, and the emergency script while the words hold a red
    flag. Both otherwise appear only when a field changes (htmx)."""
    if not form.is_bound:
        return {"verdict": None, "matches": [], "medical": False}
    data = form.cleaned_data
    verdict = None
    if page.patient is not None and data.get("caller"):
        kind, contact_id = form.caller_parts()
        # The caller is one of the contacts on the page (the form's choices), already audited.
        contact = next((c for c in page.contacts if c.pk == contact_id), None)
        verdict = disclosure_verdict(
            caller_kind=kind,
            contact=contact,
            today=timezone.localdate(),
            category=str(data.get("category", "")),
        )
    return {"verdict": verdict, **_red_flag_part(user, form.data)}


def _red_flag_part(user: User, data: Any) -> dict[str, Any]:
    """What inquiries/_red_flag.html shows for the words and category typed."""
    text = str(data.get("message", ""))[: MESSAGE_MAX * 4]
    return {
        "matches": selectors.red_flags_in(user.clinic_id or 0, text) if text.strip() else [],
        "medical": data.get("category", "") == Category.MEDICAL_QUESTION,
    }


@policy(Action.INQUIRY_LOG)
def disclosure_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """What the desk may tell this caller, as the officer chooses them (a part of the page)."""
    user = staff_user(request)
    caller = request.GET.get("caller", "")
    kind, contact_id = caller_choice_parts(caller)
    _patient, contact = selectors.caller_verdict_for_view(
        user, context=audit_context(request), patient_id=patient_id, contact_id=contact_id
    )
    verdict = (
        disclosure_verdict(
            caller_kind=kind,
            contact=contact,
            today=timezone.localdate(),
            category=request.GET.get("category", ""),
        )
        if caller
        else None
    )
    return render(request, "inquiries/_disclosure.html", {"verdict": verdict})


@policy(Action.INQUIRY_LOG)
@require_POST
def red_flag_check_view(request: HttpRequest) -> HttpResponse:
    """The emergency script, shown before anything else while a red flag is in the words."""
    return render(
        request, "inquiries/_red_flag.html", _red_flag_part(staff_user(request), request.POST)
    )


@policy(Action.INQUIRY_VIEW)
def call_view(request: HttpRequest, call_id: int) -> HttpResponse:
    user = staff_user(request)
    inquiry = selectors.call_for_view(user, context=audit_context(request), inquiry_id=call_id)
    question = getattr(inquiry, "question", None)
    callback = getattr(inquiry, "callback", None)
    verdict = disclosure_verdict(
        caller_kind=inquiry.caller_kind,
        contact=inquiry.contact,
        today=timezone.localdate(),
        category=inquiry.category,
    )
    # Red flags in any call's words (an "appointment" call can mention chest pain too).
    flags = (
        question.red_flag_phrases
        if question is not None
        else [
            {"phrase": m.phrase, "negated": m.negated}
            for m in selectors.red_flags_in(inquiry.clinic_id, inquiry.message)
        ]
    )
    context = {
        "inquiry": inquiry,
        "question": question,
        "flags": flags,
        "callback": callback,
        "verdict": verdict,
        "complaint_url": (
            COMPLAINT_PATH.format(inquiry.patient_id)
            if inquiry.category == Category.COMPLAINT and inquiry.patient_id
            else ""
        ),
    }
    return render(request, "inquiries/call.html", context)


@policy(Action.CALLBACK_WORK)
def callbacks_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    callbacks = selectors.callbacks_for_view(user, context=audit_context(request))
    return render(
        request, "inquiries/callbacks.html", {"callbacks": callbacks, "now": timezone.now()}
    )


@policy(Action.CALLBACK_WORK)
def callback_view(request: HttpRequest, callback_id: int) -> HttpResponse:
    """A callback: the number, the attempts so far, and the next attempt logged."""
    user = staff_user(request)
    context = audit_context(request)
    form = AttemptForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            callback = services.callback_attempt_log(
                context=context,
                user=user,
                callback_id=callback_id,
                outcome=data["outcome"],
                note=data["note"],
                next_due=data["next_due"],
            )
        except services.InquiryRefusedError as exc:
            _refusal_to_form(form, exc)
        else:
            if callback.status == TaskStatus.COMPLETED:
                messages.success(request, "Reached: the callback is done.")
                return redirect("inquiries:callbacks")
            messages.success(
                request,
                "Logged. "
                + (
                    "The maximum attempts are used: it is with the supervisors now."
                    if callback.pool == "supervisors"
                    else "The next attempt is scheduled."
                ),
            )
            return redirect("inquiries:callback", callback_id=callback.pk)
    page = selectors.callback_for_view(user, context=context, callback_id=callback_id)
    return render(request, "inquiries/callback.html", {"page": page, "form": form})


@policy(Action.QUESTION_POOL_VIEW)
def questions_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    now = timezone.now()
    questions = selectors.questions_for_view(user, context=audit_context(request), now=now)
    return render(request, "inquiries/questions.html", {"questions": questions, "now": now})


def _question_page(
    request: HttpRequest,
    question_id: int,
    *,
    answer_form: AnswerForm | None = None,
    relay_form: RelayForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = staff_user(request)
    question = selectors.question_for_view(
        user, context=audit_context(request), question_id=question_id
    )
    may_answer = role_may(user.role, Action.QUESTION_ANSWER)
    may_relay = role_may(user.role, Action.QUESTION_RELAY)
    context = {
        "question": question,
        "answer_form": answer_form or AnswerForm(),
        "relay_form": relay_form or RelayForm(),
        "may_answer": may_answer and question.status == TaskStatus.REQUESTED,
        "may_relay": may_relay
        and question.status == TaskStatus.IN_PROGRESS
        and question.answer_route == AnswerRoute.DESK,
        "now": timezone.now(),
    }
    return render(request, "inquiries/question.html", context, status=status)


@policy(Action.INQUIRY_VIEW)
def question_view(request: HttpRequest, question_id: int) -> HttpResponse:
    """One question's whole thread: the patient's words, where it went, the answer, the relay."""
    return _question_page(request, question_id)


@policy(Action.QUESTION_ANSWER)
@require_POST
def question_answer_view(request: HttpRequest, question_id: int) -> HttpResponse:
    user = staff_user(request)
    form = AnswerForm(request.POST)
    if form_post_run(
        request,
        form,
        lambda data: services.question_answer(
            context=audit_context(request),
            user=user,
            question_id=question_id,
            answer=data["answer"],
            route=data["route"],
        ),
        refused=services.InquiryRefusedError,
        done="Answered.",
    ):
        return redirect("inquiries:questions")
    return _question_page(request, question_id, answer_form=form, status=400)


@policy(Action.QUESTION_RELAY)
@require_POST
def question_relay_view(request: HttpRequest, question_id: int) -> HttpResponse:
    user = staff_user(request)
    form = RelayForm(request.POST)
    if form_post_run(
        request,
        form,
        lambda data: services.question_relay(
            context=audit_context(request),
            user=user,
            question_id=question_id,
            note=data["note"],
        ),
        refused=services.InquiryRefusedError,
        done="Relayed: the answer has reached the patient.",
    ):
        return redirect("inquiries:question", question_id=question_id)
    return _question_page(request, question_id, relay_form=form, status=400)


def _contact_values(data: dict[str, Any]) -> services.ContactValues:
    return services.ContactValues(
        name=data["name"],
        relationship=data["relationship"],
        phone=data["phone"],
        may_hear=data["may_hear"],
        valid_until=data["valid_until"],
        note=data["note"],
    )


def _contact_page(request: HttpRequest, patient_id: int, contact_id: int | None) -> HttpResponse:
    user = staff_user(request)
    context = audit_context(request)
    patient, contact = selectors.contact_for_view(
        user, context=context, patient_id=patient_id, contact_id=contact_id
    )
    initial = {}
    if contact is not None:
        initial = {
            "name": contact.name,
            "relationship": contact.relationship,
            "phone": contact.phone,
            "may_hear": contact.may_hear,
            "valid_until": contact.valid_until,
            "note": contact.note,
        }
    form = ContactForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_save(
                context=context,
                user=user,
                patient=patient,
                values=_contact_values(form.cleaned_data),
                contact_id=contact_id,
            )
        except services.InquiryRefusedError as exc:
            _refusal_to_form(form, exc)
        else:
            messages.success(request, "The contact list is saved.")
            return redirect("patients:chart", patient_id=patient.pk)
    return render(
        request,
        "inquiries/contact_form.html",
        {"form": form, "patient": patient, "contact": contact},
    )


@policy(Action.CONTACT_MANAGE)
def contact_new_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    return _contact_page(request, patient_id, None)


@policy(Action.CONTACT_MANAGE)
def contact_edit_view(request: HttpRequest, patient_id: int, contact_id: int) -> HttpResponse:
    return _contact_page(request, patient_id, contact_id)


@policy(Action.CONTACT_MANAGE)
@require_POST
def contact_remove_view(request: HttpRequest, patient_id: int, contact_id: int) -> HttpResponse:
    user = staff_user(request)
    context = audit_context(request)
    patient, _contact = selectors.contact_for_view(
        user, context=context, patient_id=patient_id, contact_id=contact_id
    )
    services.contact_remove(context=context, user=user, patient=patient, contact_id=contact_id)
    messages.success(request, "Removed from the contact list: they may be told nothing now.")
    return redirect("patients:chart", patient_id=patient.pk)


@policy(Action.CONTACT_MANAGE)
@require_POST
def usual_provider_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record the provider the patient's medical questions go to (or none)."""
    user = staff_user(request)
    context = audit_context(request)
    patient, _contact = selectors.contact_for_view(
        user, context=context, patient_id=patient_id, contact_id=None
    )
    try:
        services.usual_provider_set(
            context=context,
            user=user,
            patient=patient,
            provider_id=parse_id(request.POST.get("provider", "")),
        )
    except services.InquiryRefusedError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Saved: the patient's medical questions go there now.")
    return redirect("patients:chart", patient_id=patient.pk)


@policy(Action.INQUIRY_SETTINGS)
def settings_view(request: HttpRequest) -> HttpResponse:
    """The clinic's red-flag phrases, deadlines and callback attempts."""
    user = staff_user(request)
    current = selectors.settings_for_view(user)
    names = [n for n in SettingsForm.base_fields if n != "version"]
    form = SettingsForm(
        request.POST if request.method == "POST" else None,
        initial={**{n: getattr(current, n) for n in names}, "version": current.version},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.inquiry_settings_save(
                context=audit_context(request),
                user=user,
                values=services.SettingsValues(**{n: data[n] for n in names}),
                version=data["version"],
            )
        except services.InquiryRefusedError as exc:
            _refusal_to_form(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("inquiries:settings")
    return render(request, "inquiries/settings.html", {"form": form})
