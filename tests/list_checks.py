"""Helpers of the list tests of every app: the bad query values that must never give a
500, and a query count that must not grow with the rows listed."""

from rest_framework.test import APIClient

HUGE = "99999999999999999999"  # over 2**63 - 1: SQLite raised OverflowError in the query

# The values a user tries: every list endpoint answers each with a 400 naming the
# parameter when it filters on it, and ignores it (200) otherwise.
USER_BAD_VALUES = {
    "use_case": HUGE,
    "model_version": "-1",
    "tier": "abc",
    "status": "bogus",
}
# Per kind of filter, the values it refuses.
ID_BAD_VALUES = [HUGE, "-1", "0", "abc", "1.5"]
CHOICE_BAD_VALUES = ["bogus"]


def api_client(user) -> APIClient:
    """A client signed in with the user's token that answers a server error as a 500
    response (instead of raising), as a real client would see it."""
    from tests.factories import api_token_for

    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


def page_client(user):
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def bad_value_cases(lists: dict[str, dict[str, list[str]]]) -> list[tuple[str, str, str, int]]:
    """(url, parameter, value, expected status) for every list: the user's values
    (400 when the list filters on the parameter, else 200) and every bad value of each
    of its filters (400)."""
    cases = []
    for url, filters in lists.items():
        for name, value in USER_BAD_VALUES.items():
            cases.append((url, name, value, 400 if name in filters else 200))
        for name, values in filters.items():
            cases += [
                (url, name, value, 400) for value in values if value != USER_BAD_VALUES.get(name)
            ]
    return cases


def check_bad_value(user, url: str, name: str, value: str, expected: int) -> None:
    """``?name=value`` on the list answers ``expected``; a 400 names the parameter."""
    response = api_client(user).get(url, {name: value})
    assert response.status_code == expected, response.content
    if expected == 400:
        assert name in response.json()


def check_page_past_the_end(user, url: str) -> None:
    """A page past the end is DRF's 404, saying it is about ``page`` (never a 500)."""
    response = api_client(user).get(url, {"page": "999999"})
    assert response.status_code == 404
    assert response.json()["detail"].startswith("page:")


def check_queries_do_not_grow(client, url: str, make, queries: int, assert_num_queries) -> None:
    """The list takes ``queries`` queries with 2 rows made by ``make(n)`` and with 6; an
    API list also counts the 6 rows."""
    make(2)
    assert client.get(url).status_code == 200  # warm the per-process caches
    with assert_num_queries(queries):
        assert client.get(url).status_code == 200
    make(4)
    with assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200
    if response.get("Content-Type", "").startswith("application/json"):
        assert response.json()["count"] == 6
