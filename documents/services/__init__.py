"""Writes of the documents app: evidence packs (``packs``) and generated documents
(``generation``)."""

from documents.services.packs import (
    evidence_pack_build,
    evidence_pack_downloaded,
    evidence_pack_request,
)

__all__ = ["evidence_pack_build", "evidence_pack_downloaded", "evidence_pack_request"]
