"""Attestations and training in headless Chromium (issue 16, Step 7): a policy version
is published, the risk officer finds it on My work, reads and acknowledges it, takes
the signing module's knowledge check (a wrong answer first, then all right), and the
governance lead sees completion by role and team. No outside request, no CSP violation."""

import pytest

from engagement.models import Attestation, AttestationCampaign, TrainingCompletion, TrainingModule
from governance.selectors import policy_default
from governance.services import policy_draft_create
from tests.browser.conftest import csp_violations
from tests.browser.test_signoff_browser import sign_in
from tests.governance.four_eyes import policy_publish
from tests.reviews.signoff_world import with_password

pytestmark = pytest.mark.browser


def test_acknowledge_and_train_on_the_pages(
    page, live_server, world, risk_officer, governance_lead, tmp_path
):
    draft = policy_draft_create(policy=policy_default(), by=governance_lead)
    version = policy_publish(version=draft, by=governance_lead, note="Stricter monitoring.")
    campaign = AttestationCampaign.objects.get(policy_version=version)
    module = TrainingModule.objects.get(code="signing-part-11")
    base = live_server.url

    sign_in(page, base, with_password(risk_officer))
    page.goto(f"{base}/my-work/")
    page.locator("#work-attestations", has_text=campaign.title).wait_for()
    page.click(f"#work-attestations a[href='/attestations/{campaign.pk}/']")
    page.wait_for_url(f"{base}/attestations/{campaign.pk}/")
    page.check("input[name=confirmed]")
    page.click("[data-testid=acknowledge-button]")
    page.wait_for_url(f"{base}/attestations/{campaign.pk}/")
    assert "acknowledged" in page.locator("[data-testid=acknowledge]").inner_text()
    assert Attestation.objects.filter(campaign=campaign, user=risk_officer).exists()

    page.goto(f"{base}/training/{module.code}/")
    for i, question in enumerate(module.questions):
        wrong = (
            (question["answer"] + 1) % len(question["choices"]) if i == 0 else question["answer"]
        )
        page.check(f"input[name=q{i}][value='{wrong}']")
    page.click("[data-testid=quiz-submit]")
    page.locator("[data-testid=quiz-result]").wait_for()
    assert "not passed" in page.locator("[data-testid=quiz-result]").inner_text()
    for i, question in enumerate(module.questions):
        page.check(f"input[name=q{i}][value='{question['answer']}']")
    page.click("[data-testid=quiz-submit]")
    page.wait_for_url(f"{base}/training/{module.code}/")
    assert "current" in page.locator("[data-testid=module-status]").inner_text()
    assert TrainingCompletion.objects.filter(user=risk_officer, passed=True).count() == 1
    page.screenshot(path=str(tmp_path / "training.png"), full_page=True)
    assert csp_violations(page) == []
    assert page.problems == []
    page.context.clear_cookies()

    sign_in(page, base, with_password(governance_lead))
    page.goto(f"{base}/attestations/{campaign.pk}/")
    roles = page.locator("[data-testid=completion-by-role]").inner_text()
    assert "Risk officer\t1\t" in roles  # acknowledged by the risk officer who signed in
    page.goto(f"{base}/training/")
    page.locator("[data-testid=module-completion]").first.wait_for()
    page.screenshot(path=str(tmp_path / "training-completion.png"), full_page=True)
    assert csp_violations(page) == []
    assert page.problems == []
