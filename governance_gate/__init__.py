"""The deployment gate's client for pipelines: ``python -m governance_gate --help``.

The whole client is ``client.py``, standard library only, so that it runs where the
product is not installed: the dashboard serves that one file for download
(``/api/v1/gate/client/``, or the gate log page), saved as ``governance_gate.py``.
Nothing here imports Django or the apps (``.importlinter`` checks it).
"""

from governance_gate.client import (
    ALLOWED,
    BLOCKED,
    REFUSED,
    UNAVAILABLE,
    USAGE,
    __version__,
    main,
)

__all__ = ["ALLOWED", "BLOCKED", "REFUSED", "UNAVAILABLE", "USAGE", "__version__", "main"]
