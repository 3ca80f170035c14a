"""Pages of the sign-off workflow: my pending approvals, a request with its
signatures and blocking items, the signing dialog, a version's sign-off record,
periodic reviews and the gate's log.

Every page needs a governance role; who may act is decided in the services (a refusal
shows why with status 403, a bad input a 400 with the reason on the page it was made
from, and nothing written). GET never changes anything: links in e-mails only open
pages.
"""

from __future__ import annotations

from functools import partial

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.sso.signing import signing_data, signing_form
from accounts.sso.stepup import is_sso_user
from accounts.web import get_or_404, refused, role_required
from audit.views import history_context
from core import promotion_rules as rules
from governance.selectors.evidence import evidence_downloads
from governance.selectors.signers import signer_refusal
from inventory.models import ModelVersion
from reviews import permissions
from reviews.filters import GateLogFilterSet
from reviews.models import Finding, PeriodicReview, PromotionRequest, Signature
from reviews.selectors import findings as findings_sel
from reviews.selectors import pending as pending_sel
from reviews.selectors import promotion as sel
from reviews.selectors.gate_client import CONTENT_TYPE, gate_client_file
from reviews.selectors.periodic import (
    REVIEW_FILTERS,
    periodic_review_index,
    periodic_review_rows,
)
from reviews.selectors.validation import validation_current
from reviews.services import findings as findings_svc
from reviews.services import promotion as svc
from reviews.services.signers import request_sign_refusal
from reviews.views import sso_signing

MEANING_CHOICES = [
    (Signature.Meaning.APPROVED, "Approve"),
    (Signature.Meaning.REJECTED, "Reject"),
    (Signature.Meaning.REVIEWED, "Reviewed (does not decide)"),
]


class RequestForm(forms.Form):
    kind = forms.ChoiceField(choices=PromotionRequest.Kind.choices, label="Move")
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class SignForm(forms.Form):
    meaning = forms.ChoiceField(choices=MEANING_CHOICES, widget=forms.RadioSelect)
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text="Required to reject.",
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Re-enter your password: signing needs it every time.",
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(choices=PeriodicReview.Outcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=8000)
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


def _version_or_404(request: HttpRequest, pk: int) -> ModelVersion:
    return get_or_404(
        lambda pk: ModelVersion.objects.select_related("model__use_case", "validator").get(pk=pk),
        pk=pk,
    )


def _request_or_404(request: HttpRequest, pk: int) -> PromotionRequest:
    return get_or_404(sel.request_get, pk=pk, user=request.user)


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _refused(request: HttpRequest, why: str, page, pk: int) -> HttpResponse:
    """A write the service refused (nothing saved) answers 400 with the reason, shown
    on the page it was made from (issue 12: a refusal is never a redirect that looks
    like success)."""
    return refused(request, partial(page, request, pk), why, status=400)


def _signing_form(request: HttpRequest, form: forms.Form, sign) -> tuple[int, str | None, bool]:
    """Run a signing dialog's POST: (HTTP status, refusal to show, signed?). A bad form
    or a wrong password is a 400 with the reason; a refusal (rules, permissions) a 403.
    An SSO signer's dialog has no password: it goes to the provider."""
    signing_form(request, form)
    if request.method != "POST":
        return 200, None, False
    if not form.is_valid():
        return 400, None, False
    try:
        sign(signing_data(request, form))
    except ValidationError as exc:
        form.add_error(None, _errors(exc))
        return 400, None, False
    except PermissionDenied as exc:
        return 403, str(exc), False
    return 200, None, True


TO_SIGN_SHOWN = 10
PENDING_SHOWN = 50


@role_required
def pending_view(request: HttpRequest) -> HttpResponse:
    requests = sel.request_list(user=request.user)
    candidates = pending_sel.sign_candidates(user=request.user)
    to_sign, checked = pending_sel.pending_for(
        user=request.user, candidates=candidates, limit=TO_SIGN_SHOWN
    )
    pending = requests.filter(status=PromotionRequest.Status.PENDING)
    return render(
        request,
        "reviews/pending.html",
        {
            "to_sign": to_sign,
            "to_sign_unchecked": len(candidates) - checked,
            "mine": requests.filter(requested_by=request.user)[:20],
            "page_obj": Paginator(pending, PENDING_SHOWN).get_page(request.GET.get("page")),
            "recent": requests.exclude(status=PromotionRequest.Status.PENDING)[:20],
        },
    )


@role_required
def request_detail(request: HttpRequest, pk: int, refusal: str | None = None) -> HttpResponse:
    """A request; ``refusal`` is a refused waiver or withdrawal made from it."""
    req = _request_or_404(request, pk)
    state = sel.request_state(req)
    user = request.user
    people = {
        u.pk: u for u in User.objects.filter(pk__in=[*state.tally.filled.values(), *state.excluded])
    }
    slot_rows = [
        {
            "slot": slot,
            "label": rules.SLOT_LABELS.get(slot, slot),
            "eligible": state.eligible.get(slot, []),
            "signer": people.get(state.tally.filled.get(slot)),
        }
        for slot in req.slots
    ]
    excluded = [
        (people[uid].get_full_name() or people[uid].username, why)
        for uid, why in state.excluded.items()
        if uid in people
    ]
    return render(
        request,
        "reviews/request_detail.html",
        {
            "req": req,
            "version": req.model_version,
            "state": state,
            "slot_rows": slot_rows,
            "excluded": excluded,
            **_signing_offer(state, user),
            "lapsed": bool(signer_refusal(user)),
            "can_waive": req.is_pending and permissions.can_waive(user),
            "can_withdraw": req.is_pending
            and (user.pk == req.requested_by_id or permissions.can_waive(user)),
            "can_revoke": state.why_cannot_sign(user, Signature.Meaning.REVOKED) is None,
            "refusal": refusal,
            "gate_calls": req.gate_calls.select_related("caller")[:10],
            "evidence_files": evidence_downloads(
                obligation_ids=[
                    o.pk
                    for o in sel.active_obligations(
                        req.model_version.model.use_case, req.model_version
                    )
                ]
            ),
            **history_context(req, user),
        },
    )


DECISIONS = (Signature.Meaning.APPROVED, Signature.Meaning.REJECTED)


def _signing_offer(state: sel.RequestState, user) -> dict:
    """What the request page offers ``user``, as the signing state decides it: the
    decision dialog only to those who may approve or reject (the slot's signers), a
    review that decides nothing to those who may only give that, nothing to anyone
    else (issue 18); ``why_not``: why Approve is not open to them now."""
    meanings = state.meanings_for(user)
    decides = any(m in meanings for m in DECISIONS)
    return {
        "can_sign": decides,
        "can_review_only": not decides and Signature.Meaning.REVIEWED in meanings,
        "sign_slot": rules.SLOT_LABELS.get(state.slot_for(user) or "", ""),
        "why_not": state.why_cannot_sign(user, Signature.Meaning.APPROVED),
    }


def _meaning_rows(state: sel.RequestState, user) -> list[dict]:
    """The dialog's meanings: to a slot's signer every decision, the ones not open to
    them now disabled with the server's reason (Approve while blocking items are open,
    issue 18); to anyone else only what they may give."""
    allowed = state.meanings_for(user)
    decides = any(m in allowed for m in DECISIONS)
    return [
        {"value": m, "label": label, "why": state.why_cannot_sign(user, m)}
        for m, label in MEANING_CHOICES
        if m in allowed or (decides and m in DECISIONS)
    ]


def _sign_page(request, req, form, status=200, refusal=None):
    """The dialog offers only the meanings the user may give now (issue 12), a decision
    they may not give shown disabled with why; a meaning posted anyway is refused by
    the service with its reason."""
    state = sel.request_state(req)
    rows = []
    if form is not None:
        allowed = state.meanings_for(request.user)
        form.fields["meaning"].choices = [(m, t) for m, t in MEANING_CHOICES if m in allowed]
        rows = _meaning_rows(state, request.user)
    return render(
        request,
        "reviews/sign.html",
        {
            "req": req,
            "version": req.model_version,
            "state": state,
            "form": form,
            "meaning_rows": rows,
            "refusal": refusal,
            "slot_label": rules.SLOT_LABELS.get(state.slot_for(request.user) or "", ""),
        },
        status=status,
    )


@role_required
def request_sign_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The signing dialog: what is signed (its hash), the meaning, a reason and the
    password typed again."""
    req = _request_or_404(request, pk)
    state = sel.request_state(req)
    if not state.meanings_for(request.user):
        # Refused before any password is typed: no form, the reason (issue 12).
        why = state.why_cannot_sign(request.user, Signature.Meaning.APPROVED)
        if request.method == "POST":
            why = (
                request_sign_refusal(
                    request=req, by=request.user, meaning=request.POST.get("meaning", "")
                )
                or why
            )
        return _sign_page(request, req, None, status=403, refusal=why)
    if is_sso_user(request.user):  # re-authentication at the provider (issue 17)
        return sso_signing.request_sign_sso(request, req, _sign_page)
    if request.method != "POST":
        return _sign_page(request, req, SignForm())
    form = SignForm(request.POST)
    if not form.is_valid():
        return _sign_page(request, req, form, status=400)
    data = form.cleaned_data
    try:
        svc.request_sign(
            request=req,
            by=request.user,
            password=data["password"],
            meaning=data["meaning"],
            reason=data["reason"],
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, _errors(exc))
        return _sign_page(request, req, form, status=400)
    except PermissionDenied as exc:
        return _sign_page(request, req, form, status=403, refusal=str(exc))
    messages.success(request, f"Signed: {dict(MEANING_CHOICES)[data['meaning']]}.")
    return redirect("reviews:request-detail", pk=req.pk)


@role_required
def request_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    req = _request_or_404(request, pk)
    form = RevokeForm(request.POST or None)
    status, refusal, signed = _signing_form(
        request,
        form,
        lambda data: svc.request_sign(
            request=req,
            by=request.user,
            password=data["password"],
            meaning=Signature.Meaning.REVOKED,
            reason=data["reason"],
        ),
    )
    if signed:
        messages.success(request, "The approval is revoked; the gate now blocks it.")
        return redirect("reviews:request-detail", pk=req.pk)
    return render(
        request,
        "reviews/revoke.html",
        {"req": req, "form": form, "refusal": refusal},
        status=status,
    )


@role_required
@require_POST
def request_waive_view(request: HttpRequest, pk: int) -> HttpResponse:
    req = _request_or_404(request, pk)
    try:
        svc.blocking_waive(
            request=req,
            by=request.user,
            code=request.POST.get("code", ""),
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        return _refused(request, _errors(exc), request_detail, req.pk)
    messages.success(request, "Blocking item waived.")
    return redirect("reviews:request-detail", pk=req.pk)


@role_required
@require_POST
def request_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    req = _request_or_404(request, pk)
    try:
        svc.request_withdraw(request=req, by=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        return _refused(request, _errors(exc), request_detail, req.pk)
    messages.success(request, "Request withdrawn.")
    return redirect("reviews:request-detail", pk=req.pk)


@role_required
def version_view(request: HttpRequest, pk: int, refusal: str | None = None) -> HttpResponse:
    """A version's sign-off record: where it is, its requests, findings, periodic
    review and gate calls; the form to ask for the next move (``refusal``: a refused
    request or finding made from it)."""
    version = _version_or_404(request, pk)
    user = request.user
    moves = []
    for kind in rules.KINDS:
        try:
            target = rules.target_for(kind, version.environment)
        except rules.MoveError:
            continue
        if permissions.can_request(user, version, kind):
            moves.append((kind, target))
    form = RequestForm(initial={"kind": moves[0][0] if moves else rules.PROMOTE})
    form.fields["kind"].choices = [
        (kind, f"{dict(PromotionRequest.Kind.choices)[kind]} to {target}") for kind, target in moves
    ]
    return render(
        request,
        "reviews/version.html",
        {
            "version": version,
            "use_case": version.model.use_case,
            "requests": sel.requests_for_version(version),
            "findings": findings_sel.finding_list().filter(model_version=version),
            "severities": Finding.Severity.choices,
            "sources": [(s.value, s.label) for s in MANUAL_SOURCES],
            "review": sel.review_status(version),
            "reviews": version.periodic_reviews.select_related("reviewed_by"),
            "gate_calls": sel.gate_calls(version_id=version.pk)[:20],
            "form": form,
            "moves": moves,
            "pending": version.promotion_requests.filter(status="pending").first(),
            "validation": validation_current(version),
            "can_open_finding": permissions.can_open_finding(user, version),
            "can_review": version.environment == "prod"
            and svc.can_sign_review(user, version) is None,
            "order": rules.ORDER,
            "refusal": refusal,
            **history_context(version, user),
        },
    )


@role_required
@require_POST
def request_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version_or_404(request, pk)
    if not any(permissions.can_request(request.user, version, kind) for kind in rules.KINDS):
        # Refused before the form is read: the reason, not a missing field (issue 12).
        raise PermissionDenied("You may not ask to move this version.")
    form = RequestForm(request.POST)
    if not form.is_valid():
        return _refused(request, "Choose a move and give a justification.", version_view, pk)
    try:
        req = svc.request_create(
            version=version,
            by=request.user,
            kind=form.cleaned_data["kind"],
            justification=form.cleaned_data["justification"],
        )
    except ValidationError as exc:
        return _refused(request, _errors(exc), version_view, pk)
    if req.status == PromotionRequest.Status.APPROVED:
        messages.success(
            request, "Approved at once: the policy requires no sign-off for this move."
        )
    else:
        messages.success(request, "Request made; the signers have been e-mailed.")
    return redirect("reviews:request-detail", pk=req.pk)


# What a person records by hand (the other sources are the product's own).
MANUAL_SOURCES = (Finding.Source.MANUAL, Finding.Source.AUDIT, Finding.Source.REVIEW)


@role_required
@require_POST
def finding_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version_or_404(request, pk)
    source = request.POST.get("source") or Finding.Source.MANUAL
    if source not in MANUAL_SOURCES:
        return _refused(
            request,
            "Findings opened by hand come from a manual observation, an audit or a "
            "periodic review; the other sources open their own.",
            version_view,
            pk,
        )
    try:
        finding, _ = findings_svc.finding_open(
            version=version,
            by=request.user,
            title=request.POST.get("title", ""),
            source=source,
            severity=request.POST.get("severity", ""),
            detail={"note": request.POST.get("detail", "")[:4000]},
        )
    except ValidationError as exc:
        return _refused(request, _errors(exc), version_view, pk)
    messages.success(
        request,
        f"Finding #{finding.pk} opened ({finding.severity}), owned by "
        f"{finding.owner.get_username() if finding.owner else 'nobody yet'}, due "
        f"{finding.due_on}.",
    )
    return redirect("reviews:finding-detail", pk=finding.pk)


class PeriodicReviewFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "All"), *REVIEW_FILTERS.items()], label="Status"
    )


PERIODIC_SHOWN = 50


@role_required
def periodic_reviews_view(request: HttpRequest) -> HttpResponse:
    """Versions in production by due date, a page at a time (issue 18: every one of
    thousands was evaluated and listed), filtered by status; an unknown status is a 400
    naming it."""
    form = PeriodicReviewFilterForm(request.GET)
    valid = form.is_valid()
    wanted = form.cleaned_data.get("status", "") if valid else ""
    page = Paginator(periodic_review_index(status=wanted), PERIODIC_SHOWN).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "reviews/periodic_reviews.html",
        {
            "rows": periodic_review_rows(ids=list(page.object_list)),
            "page_obj": page,
            "filter_form": form,
            "status": wanted,
            "filters": REVIEW_FILTERS,
        },
        status=200 if valid else 400,
    )


@role_required
def periodic_review_sign_view(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version_or_404(request, pk)
    form = ReviewForm(request.POST or None)
    status, refusal, signed = _signing_form(
        request,
        form,
        lambda data: svc.periodic_review_sign(
            version=version,
            by=request.user,
            password=data["password"],
            outcome=data["outcome"],
            note=data["note"],
        ),
    )
    if signed:
        messages.success(request, "Periodic review signed.")
        return redirect("reviews:version", pk=version.pk)
    return render(
        request,
        "reviews/periodic_review_sign.html",
        {
            "version": version,
            "form": form,
            "refusal": refusal,
            "review": sel.review_status(version),
            "manifest_hash": rules.manifest_hash(svc.review_manifest(version)),
        },
        status=status,
    )


@role_required
def gate_log_view(request: HttpRequest) -> HttpResponse:
    filterset = GateLogFilterSet(request.GET, queryset=sel.gate_calls())
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    decision = filterset.form.cleaned_data.get("decision") if filterset.is_valid() else ""
    return render(
        request,
        "reviews/gate_log.html",
        {
            "page": page,
            "filter": filterset,
            "decision": decision or "",
            "query": query.urlencode(),
            "client": gate_client_file(),
        },
    )


@role_required
def gate_client_download(request: HttpRequest) -> HttpResponse:
    """The pipelines' gate client (issue 17), the same file as ``/api/v1/gate/client/``."""
    client = gate_client_file()
    response = HttpResponse(client.content, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{client.filename}"'
    return response
