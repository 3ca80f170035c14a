"""Who renders each kind of e-mail. The outbox knows no domain: each app registers a
renderer for its kinds in its ``AppConfig.ready``::

    from notifications.registry import register_renderer

    register_renderer([Notification.Kind.DRIFT_ALERT], render_drift_alert)

A renderer takes the outbox row and its subject and returns (subject line, text body,
HTML body or None), and optionally a fourth item: the attachments, as a list of
(file name, bytes, MIME type).
"""

from collections.abc import Callable, Iterable

Rendered = tuple[str, str, str | None]
Renderer = Callable[..., Rendered]

_renderers: dict[str, Renderer] = {}


def register_renderer(kinds: Iterable[str], renderer: Renderer) -> None:
    """Render e-mails of ``kinds`` with ``renderer(note, subject)``."""
    for kind in kinds:
        _renderers[str(kind)] = renderer


def renderer_for(kind: str) -> Renderer:
    """The renderer of ``kind``; KeyError names a kind nobody registered."""
    try:
        return _renderers[kind]
    except KeyError:
        raise KeyError(f"No renderer is registered for e-mails of kind {kind!r}.") from None
