"""A password change revokes the user's API tokens.

A signal rather than a call in each service: passwords are set by Django's own views
(password change, password reset), the admin, ``manage.py changepassword`` and
``createsuperuser``; the one place all of them pass is the user's save. (Django
already ends the user's other browser sessions on a password change.)
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_save

_CHANGED = "_accounts_password_changed"


def _note_password_change(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    instance.__dict__.pop(_CHANGED, None)
    if raw or instance.pk is None or instance._state.adding:
        return
    if update_fields is not None and "password" not in update_fields:
        return
    stored = sender._base_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    if stored is not None and stored != instance.password:
        instance.__dict__[_CHANGED] = True


def _revoke_tokens(sender, instance, raw=False, **kwargs) -> None:
    if raw or not instance.__dict__.pop(_CHANGED, False):
        return
    from accounts.services import api_tokens_revoke_for_user

    api_tokens_revoke_for_user(user=instance, reason="password changed")


def connect() -> None:
    user_model = get_user_model()
    pre_save.connect(_note_password_change, sender=user_model, dispatch_uid="accounts-pw-pre")
    post_save.connect(_revoke_tokens, sender=user_model, dispatch_uid="accounts-pw-post")
