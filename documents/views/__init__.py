"""Pages of the documents app: evidence packs (``packs``) and generated documents
(``generated``)."""
