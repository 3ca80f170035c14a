"""Step 3 in the admin: the template is edited by governance leads, one Accountable per
task; use cases' matrices are read-only there."""

import pytest

from governance.models import RaciRole, RaciTask, RaciTemplateCell, UseCaseRaciCell

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/governance/racitask/",
        "/admin/governance/racirole/",
        "/admin/governance/usecaseracicell/",
        "/admin/governance/raciassignment/",
    ],
)
def test_lists_open_for_leads_only(client_for, governance_lead, data_scientist, url):
    assert client_for(governance_lead).get(url).status_code == 200
    assert client_for(data_scientist).get(url).status_code == 302


def test_template_refuses_a_second_accountable(client_for, governance_lead):
    task = RaciTask.objects.get(code="monitoring")
    cells = list(task.template_cells.order_by("id"))
    data = {
        "code": task.code,
        "name": task.name,
        "description": "",
        "order": task.order,
        "template_cells-TOTAL_FORMS": str(len(cells) + 1),
        "template_cells-INITIAL_FORMS": str(len(cells)),
        "template_cells-MIN_NUM_FORMS": "0",
        "template_cells-MAX_NUM_FORMS": "1000",
    }
    for i, cell in enumerate(cells):
        prefix = f"template_cells-{i}"
        data.update(
            {
                f"{prefix}-id": str(cell.pk),
                f"{prefix}-task": str(task.pk),
                f"{prefix}-role": str(cell.role_id),
                f"{prefix}-letters": cell.letters,
            }
        )
    n = len(cells)
    data.update(
        {
            f"template_cells-{n}-task": str(task.pk),
            f"template_cells-{n}-role": str(RaciRole.objects.get(code="risk-audit").pk),
            f"template_cells-{n}-letters": "A",
        }
    )
    before = RaciTemplateCell.objects.count()
    response = client_for(governance_lead).post(
        f"/admin/governance/racitask/{task.pk}/change/", data
    )
    assert response.status_code == 400
    assert "Only one role can be Accountable" in response.content.decode()
    assert RaciTemplateCell.objects.count() == before


def test_use_case_cells_cannot_be_added_in_the_admin(client_for, governance_lead):
    assert (
        client_for(governance_lead).get("/admin/governance/usecaseracicell/add/").status_code == 403
    )
    assert not UseCaseRaciCell.objects.exists()
