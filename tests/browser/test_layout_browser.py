"""Every page of the product fits at 1440 px and at 390 px (issue 18), on the demo
portfolio: no horizontal page overflow (a wide table scrolls inside its own card, which
does not widen the page) and no clipped chart label (every Plotly SVG text box inside
its chart's box and clear of the legend).

The pages are enumerated from the URL confs: every named route outside the API and the
admin is either a page visited here (with demo objects as arguments) or an action, a
download or a status feed listed in NOT_PAGES with why, so a new page cannot be missed.
One browser context per width; the demo is seeded once. How long it takes is printed
(``-s``) and recorded in docs/benchmarks.md.
"""

import contextlib
import time
from io import StringIO
from unittest import mock

import pytest
from celery.app.task import Task
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from demo import DEMO_PASSWORD
from tests.browser.conftest import CSP_LISTENER

pytestmark = pytest.mark.browser

WIDTHS = (1440, 390)
LEAD = "governance.lead"

# Named routes that are not pages: POST-only actions, downloads, JSON status feeds.
ACTION = "POST-only action"
DOWNLOAD = "file download"
FEED = "JSON status feed"
NOT_PAGES = {
    "dashboard:my-work-counts": FEED,
    "governance:ethics-approve": ACTION,
    "governance:raci-assignment-add": ACTION,
    "governance:raci-assignment-remove": ACTION,
    "governance:policy-draft-new": ACTION,
    "governance:policy-version-publish": ACTION,
    "governance:policy-version-discard": ACTION,
    "governance:policy-finding-rules": ACTION,
    "governance:policy-engagement": ACTION,
    "governance:framework-change-approve": ACTION,
    "governance:framework-change-reject": ACTION,
    "governance:framework-change-withdraw": ACTION,
    "governance:version-change-declaration-declare": ACTION,
    "governance:version-change-declaration-confirm": ACTION,
    "governance:obligation-evidence": ACTION,
    "governance:obligation-evidence-file": DOWNLOAD,
    "governance:obligation-accept": ACTION,
    "governance:obligation-waive": ACTION,
    "logout": ACTION,
    "oidc_logout": ACTION,
    "oidc_authentication_init": "a redirect to the identity provider",
    "oidc_authentication_callback": "needs a code from the identity provider",
    "sso-stepup-callback": "needs a code from the identity provider",
    "fairness:bias-query": ACTION,
    "password_reset_confirm": "needs a one-time token from an e-mail",
    "audit:export-csv": DOWNLOAD,
    "audit:export-json": DOWNLOAD,
    "reviews:request-create": ACTION,
    "reviews:request-waive": ACTION,
    "reviews:request-withdraw": ACTION,
    "reviews:finding-create": ACTION,
    "reviews:findings-csv": DOWNLOAD,
    "reviews:finding-plan": ACTION,
    "reviews:finding-action-done": ACTION,
    "reviews:finding-remediate": ACTION,
    "reviews:finding-verify": ACTION,
    "reviews:finding-close": ACTION,
    "reviews:finding-severity": ACTION,
    "reviews:finding-owner": ACTION,
    "reviews:gate-client": DOWNLOAD,
    "fairness:bias-upload": ACTION,
    "fairness:bias-summary-request": ACTION,
    "fairness:scored-dataset-download": DOWNLOAD,
    "fairness:bias-summary-status": FEED,
    "fairness:scored-dataset-status": FEED,
    "fairness:bias-summary-csv": DOWNLOAD,
    "fairness:bias-summary-evidence": ACTION,
    "monitoring:monitoring-profile-status": FEED,
    "monitoring:monitoring-configure": ACTION,
    "monitoring:monitoring-batch": ACTION,
    "monitoring:monitoring-recompute": ACTION,
    "monitoring:monitoring-alert-acknowledge": ACTION,
    "monitoring:monitoring-alert-resolve": ACTION,
    "experiments:experiment-start": ACTION,
    "experiments:experiment-abandon": ACTION,
    "experiments:experiment-upload": ACTION,
    "experiments:experiment-analyse": ACTION,
    "experiments:experiment-evidence": ACTION,
    "documents:pack-request": ACTION,
    "documents:pack-status": FEED,
    "documents:pack-download": DOWNLOAD,
    "documents:document-request": ACTION,
    "documents:use-case-document-request": ACTION,
    "documents:portfolio-report-request": ACTION,
    "documents:document-status": FEED,
    "documents:document-file": DOWNLOAD,
    "documents:document-download": DOWNLOAD,
    "engagement:campaign-acknowledge": ACTION,
    "engagement:module-submit": ACTION,
    "oversight:kpis-csv": DOWNLOAD,
    "oversight:review-create": ACTION,
    "oversight:review-conclude": ACTION,
    "oversight:proposal-add": ACTION,
    "oversight:proposal-draft": ACTION,
    "oversight:review-sign": ACTION,
    "mlflow_sync:sync": ACTION,
    "mlflow_sync:conflict-resolve": ACTION,
    "mlflow_sync:webhook": "POST-only webhook (MLflow's)",
}


def route_names() -> set[str]:
    """Every named route of the product outside the API and the admin."""
    names: set[str] = set()

    def walk(patterns, prefix: str, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern) in ("api/", "admin/") and not prefix:
                    continue
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern) and p.name:
                names.add(namespace + p.name)

    walk(get_resolver().url_patterns, "", "")
    return names


def first(queryset):
    row = queryset.first()
    assert row is not None, f"the demo has no {queryset.model.__name__}"
    return row


def add_documents() -> None:
    """The demo has no evidence pack or generated document: ask for one of each, as the
    governance lead would on the pages (queued; their pages show the request)."""
    from django.contrib.auth.models import User

    from documents.models import EvidencePack, GeneratedDocument
    from documents.services.generation import document_request
    from documents.services.packs import evidence_pack_request
    from monitoring.models import MonitoringConfig

    lead = User.objects.get(username=LEAD)
    version = first(MonitoringConfig.objects.order_by("pk")).model_version
    if not EvidencePack.objects.exists():
        evidence_pack_request(user=lead, scope=EvidencePack.Scope.VERSION, model_version=version)
    if not GeneratedDocument.objects.exists():
        document_request(user=lead, version=version, kind=GeneratedDocument.Kind.MODEL_CARD)


def demo_pages() -> dict[str, str]:
    """Route name -> URL of that page for the demo's richest objects."""
    from documents.models import EvidencePack, GeneratedDocument
    from engagement.models import AttestationCampaign, TrainingModule
    from experiments.models import Experiment
    from fairness.models import BiasSummary
    from governance.models.classification import RiskRule
    from governance.models.ethics import EthicsAnswerSet, EthicsDeviation, EthicsTemplateVersion
    from governance.models.framework_changes import FrameworkChange
    from governance.models.policy import PolicyVersion
    from inventory.models import Dataset
    from monitoring.models import MonitoringConfig
    from oversight.models import FrameworkReview
    from reviews.models.findings import Finding
    from reviews.models.promotion import PromotionRequest
    from reviews.models.validation import Validation

    config = first(MonitoringConfig.objects.order_by("pk"))
    version = config.model_version
    model = version.model
    use_case = model.use_case
    summary = first(BiasSummary.objects.filter(status=BiasSummary.Status.DONE).order_by("pk"))
    experiment = first(Experiment.objects.filter(status=Experiment.Status.ANALYSED).order_by("pk"))
    finding = first(Finding.objects.order_by("pk"))
    validation = first(Validation.objects.order_by("pk"))
    request = first(PromotionRequest.objects.order_by("-pk"))
    pages = {
        "dashboard:home": [],
        "dashboard:my-work": [],
        "dashboard:use-case-detail": [use_case.pk],
        "governance:use-case-classify": [use_case.pk],
        "governance:use-case-classification-confirm": [use_case.pk],
        "governance:ethics": [],
        "governance:ethics-answer": [],
        "governance:ethics-compare": [],
        "governance:ethics-answer-set": [first(EthicsAnswerSet.objects.order_by("pk")).pk],
        "governance:ethics-version": [first(EthicsTemplateVersion.objects.order_by("pk")).pk],
        "governance:ethics-use-case": [use_case.pk],
        "governance:ethics-unanswered": [],
        "governance:ethics-deviation-accept": [first(EthicsDeviation.objects.order_by("pk")).pk],
        "governance:ethics-use-case-answer": [use_case.pk],
        "governance:raci-mine": [],
        "governance:raci-use-case": [use_case.pk],
        "governance:raci-incomplete": [],
        "governance:policy": [],
        "governance:policy-version": [first(PolicyVersion.objects.order_by("-pk")).pk],
        "governance:policy-diff": [],
        "governance:framework-changes": [],
        "governance:framework-change": [first(FrameworkChange.objects.order_by("pk")).pk],
        "governance:risk-rules": [],
        "governance:risk-rule-propose-new": [],
        "governance:risk-rule-propose": [first(RiskRule.objects.order_by("pk")).pk],
        "governance:version-change-declaration": [version.pk],
        "governance:obligations": [],
        "governance:obligations-use-case": [use_case.pk],
        "login": [],
        "password_change": [],
        "password_change_done": [],
        "password_reset": [],
        "password_reset_done": [],
        "password_reset_complete": [],
        "sso-no-role": [],
        "audit:list": [],
        "inventory:use-case-list": [],
        "inventory:use-case-create": [],
        "inventory:use-case-update": [use_case.pk],
        "inventory:model-create": [use_case.pk],
        "inventory:model-detail": [model.pk],
        "inventory:version-create": [model.pk],
        "inventory:dataset-list": [],
        "inventory:dataset-create": [],
        "inventory:dataset-detail": [first(Dataset.objects.order_by("pk")).pk],
        "inventory:dataset-update": [first(Dataset.objects.order_by("pk")).pk],
        "reviews:pending": [],
        "reviews:request-detail": [request.pk],
        "reviews:request-sign": [request.pk],
        "reviews:request-revoke": [request.pk],
        "reviews:version": [version.pk],
        "reviews:periodic-review-sign": [version.pk],
        "reviews:findings": [],
        "reviews:finding-detail": [finding.pk],
        "reviews:validations": [validation.model_version_id],
        "reviews:validation-detail": [validation.pk],
        "reviews:validation-sign": [validation.pk],
        "reviews:finding-accept": [finding.pk],
        "reviews:periodic-reviews": [],
        "reviews:gate-log": [],
        "fairness:bias-version": [summary.dataset.model_version_id],
        "fairness:bias-summary": [summary.pk],
        "monitoring:monitoring": [version.pk],
        "experiments:experiment-list": [],
        "experiments:experiment-create": [experiment.use_case_id],
        "experiments:experiment-detail": [experiment.pk],
        "experiments:experiment-edit": [experiment.pk],
        "experiments:experiment-sign-result": [experiment.pk],
        "experiments:experiment-override": [experiment.pk],
        "documents:packs": [],
        "documents:pack": [first(EvidencePack.objects.order_by("pk")).pk],
        "documents:version-documents": [version.pk],
        "documents:use-case-documents": [use_case.pk],
        "documents:portfolio-reports": [],
        "documents:document": [first(GeneratedDocument.objects.order_by("pk")).pk],
        "documents:document-sign": [first(GeneratedDocument.objects.order_by("pk")).pk],
        "engagement:campaigns": [],
        "engagement:campaign-detail": [first(AttestationCampaign.objects.order_by("pk")).pk],
        "engagement:modules": [],
        "engagement:module-detail": [first(TrainingModule.objects.order_by("order")).code],
        "oversight:kpis": [],
        "oversight:reviews": [],
        "oversight:review-detail": [first(FrameworkReview.objects.order_by("pk")).pk],
        "mlflow_sync:registry": [],
        # the admin site's index stands for the admin (its model pages are Django's own)
        "admin:index": [],
    }
    return {name: reverse(name, args=args) for name, args in pages.items()}


# Runs in the page: the page's overflow and, for every drawn Plotly chart, the text
# boxes that leave the chart's box or cross its legend.
MEASURE = """
() => {
  const doc = document.documentElement;
  const width = doc.clientWidth;
  const out = { overflow: doc.scrollWidth - width, wide: [], clipped: [], undrawn: 0 };
  const describe = (el) => {
    const id = el.id ? "#" + el.id : "";
    const cls = typeof el.className === "string" && el.className
      ? "." + el.className.trim().split(/\\s+/).join(".") : "";
    return el.tagName.toLowerCase() + id + cls;
  };
  // Inside a scroller an element cannot widen the page, unless it is placed absolutely
  // against something outside that scroller.
  const scrollsInside = (el) => {
    if (["absolute", "fixed"].includes(getComputedStyle(el).position)) return false;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") return true;
    }
    return false;
  };
  if (out.overflow > 0) {
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width && r.right > width + 0.5 && !scrollsInside(el)) {
        out.wide.push(`${describe(el)} ends at ${Math.round(r.right)}px`);
        if (out.wide.length >= 5) break;
      }
    }
    // Text running out of a box narrower than it (a long unbroken word).
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node && out.wide.length < 5; node = walker.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(node);
      const r = range.getBoundingClientRect();
      if (r.width && r.right > width + 0.5 && !scrollsInside(node.parentElement)) {
        const text = node.textContent.trim().slice(0, 30);
        const end = Math.round(r.right);
        out.wide.push(`text "${text}" in ${describe(node.parentElement)} ends at ${end}px`);
      }
    }
  }
  const overlaps = (a, b) =>
    a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  for (const host of document.querySelectorAll("[data-chart]")) {
    const box = host.querySelector(".svg-container");
    if (!box) { out.undrawn += 1; continue; }
    const frame = box.getBoundingClientRect();
    const legendBg = host.querySelector("g.legend rect.bg");
    const legend = legendBg ? legendBg.getBoundingClientRect() : null;
    for (const text of box.querySelectorAll("text")) {
      const label = text.textContent.trim();
      if (!label || text.closest(".hoverlayer")) continue;
      const style = getComputedStyle(text);
      if (style.display === "none" || style.visibility === "hidden") continue;
      if (style.opacity === "0") continue;
      const r = text.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      const where = `#${host.id || host.dataset.chart} "${label.slice(0, 40)}"`;
      if (r.left < frame.left - 1 || r.right > frame.right + 1 ||
          r.top < frame.top - 1 || r.bottom > frame.bottom + 1) {
        out.clipped.push(`${where} outside the chart`);
      } else if (legend && legend.width && !text.closest("g.legend") && overlaps(r, legend)) {
        out.clipped.push(`${where} under the legend`);
      }
    }
  }
  return out;
}
"""

CHARTS_DRAWN = """
() => Array.from(document.querySelectorAll("[data-chart]"))
  .every((el) => el.querySelector(".svg-container text"))
"""


@pytest.fixture
def demo(live_server) -> float:
    """The demo portfolio, committed so that the live server's thread reads it; returns
    the seconds it took to load."""
    started = time.monotonic()
    with mock.patch.object(Task, "delay"):
        call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
        add_documents()
    return time.monotonic() - started


def open_context(browser, base: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(20_000)
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(base) else route.abort(),
    )
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", LEAD)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form.auth-form button[type=submit]")
    page.wait_for_url(f"{base}/")
    return context, page


def check(page, url: str) -> list[str]:
    """What does not fit on one page, as readable lines."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    response = page.goto(url)
    status = response.status if response else 0
    # A refusal (403, or 409: not in a state for that) is a page too and must fit.
    problems = [] if status in (200, 403, 409) else [f"answered {status}"]
    # A chart still not drawn after that is reported below as not drawn.
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(CHARTS_DRAWN, timeout=10_000)
    found = page.evaluate(MEASURE)
    if found["overflow"] > 0:
        wide = "; ".join(found["wide"]) or "no single element"
        problems.append(f"page {found['overflow']}px wider than the window ({wide})")
    if found["undrawn"]:
        problems.append(f"{found['undrawn']} chart(s) not drawn")
    problems += found["clipped"]
    return problems


def test_every_page_fits_at_desktop_and_phone_widths(browser, live_server, demo):
    pages = demo_pages()
    missed = route_names() - set(pages) - set(NOT_PAGES)
    assert not missed, f"routes neither visited nor listed in NOT_PAGES: {sorted(missed)}"
    base = live_server.url
    started = time.monotonic()
    failures, visits = [], 0
    for width in WIDTHS:
        context, page = open_context(browser, base, width)
        try:
            for name, url in pages.items():
                if name == "login":
                    continue  # signed in; the sign-in page is measured signed out below
                visits += 1
                for problem in check(page, base + url):
                    failures.append(f"{width}px {name} ({url}): {problem}")
        finally:
            context.close()
        signed_out = browser.new_context(viewport={"width": width, "height": 900})
        try:
            anonymous = signed_out.new_page()
            visits += 1
            for problem in check(anonymous, base + reverse("login")):
                failures.append(f"{width}px login: {problem}")
        finally:
            signed_out.close()
    took = time.monotonic() - started
    print(
        f"\n{visits} page views at {len(WIDTHS)} widths in {took:.1f} s "
        f"(the demo loaded in {demo:.1f} s before)"
    )
    assert not failures, "\n".join(failures)
