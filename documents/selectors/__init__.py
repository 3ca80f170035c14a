"""Reads of the documents app: evidence packs (``packs``) and the facts documents are
built from (``facts``)."""
