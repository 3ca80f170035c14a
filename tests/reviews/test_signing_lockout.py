"""Issue 13: the signing lockout is atomic. Parallel wrong passwords on a committed
database (file SQLite or PostgreSQL, one connection per thread) check at most the
limit; the others are refused as locked without their password being checked."""

import threading

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from accounts.roles import Role
from reviews.models import SigningFailure
from reviews.services.signers import check_signing_password
from tests.factories import user_with_role

ATTEMPTS = 12


def test_parallel_wrong_passwords_check_at_most_the_limit(transactional_db, settings, monkeypatch):
    settings.SIGNING_MAX_FAILURES = 5
    signer = user_with_role(Role.RISK_OFFICER, username="parallel")
    signer.set_password("right")
    signer.save()
    checked = []
    real_check = User.check_password

    def counting_check(self, raw):
        checked.append(raw)
        return real_check(self, raw)

    monkeypatch.setattr(User, "check_password", counting_check)
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []

    def attempt():
        user = User.objects.get(pk=signer.pk)
        barrier.wait()
        try:
            check_signing_password(user, "wrong", "sign request #1 as approved")
        except ValidationError:
            outcomes.append("wrong")
        except PermissionDenied:
            outcomes.append("locked")
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(f"error: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["locked"] * (ATTEMPTS - 5) + ["wrong"] * 5
    assert len(checked) == 5
    assert SigningFailure.objects.filter(user=signer).count() == 5
    # and the right password is refused too while locked
    with pytest.raises(PermissionDenied, match="locked"):
        check_signing_password(User.objects.get(pk=signer.pk), "right", "sign")
