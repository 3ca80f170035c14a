"""A use case name is one line (issue 13: a CR/LF in it broke its e-mails for good):
refused through the API and the page, nothing written."""

import pytest

from inventory.models import UseCase
from tests.factories import UseCaseFactory
from tests.list_checks import api_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["Churn\r\nBcc: x@example.org", "Churn\nrisk", "Tab\there"])
def test_a_name_with_a_line_break_is_refused_by_the_api(data_scientist, name):
    use_case = UseCaseFactory(team=data_scientist.teams.first(), name="Churn")
    response = api_client(data_scientist).patch(
        f"/api/v1/use-cases/{use_case.pk}/", {"name": name}, format="json"
    )
    assert response.status_code == 400
    assert "name" in response.json()
    assert UseCase.objects.get(pk=use_case.pk).name == "Churn"


def test_a_name_with_a_line_break_is_refused_on_the_page(data_scientist, client):
    use_case = UseCaseFactory(team=data_scientist.teams.first(), name="Churn")
    client.force_login(data_scientist)
    url = f"/inventory/use-cases/{use_case.pk}/edit/"
    form = client.get(url)
    assert form.status_code == 200
    data = {
        key: value
        for key, value in form.context["form"].initial.items()
        if value is not None and not isinstance(value, list | tuple)
    }
    data.update(
        name="Churn\r\nBcc: x@example.org",
        team=use_case.team.pk,
        business_owner=use_case.business_owner.pk,
        technical_owner=use_case.technical_owner.pk,
    )
    response = client.post(url, data)
    assert response.status_code in (200, 400)
    assert "name" in response.context["form"].errors
    assert UseCase.objects.get(pk=use_case.pk).name == "Churn"
