"""The trail's page clips long values as ``truncatechars`` does, without its cost."""

import pytest
from django.template.defaultfilters import truncatechars

from audit.templatetags.audit_text import clip


@pytest.mark.parametrize("text", ["", "short", "a" * 120, "a" * 121, "é" * 300, 12345])
def test_clip_is_truncatechars(text):
    assert clip(text, 120) == truncatechars(text, 120)
    assert clip(text, 3) == truncatechars(text, 3)
