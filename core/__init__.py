"""The product's pure computation: no Django, no Celery, no database.

Rules engines (classification, ethics, RACI, policy, obligations, promotion), the audit
hash chain, subgroup fairness, drift, experiment statistics, scored-file reading and
the Plotly chart builders. Each takes plain values and returns plain values, so it is
tested, benchmarked and reused from a worker, a command or a notebook without a
settings module. The Django apps call into it; it never calls back (import-linter
enforces both, see ``.importlinter``).
"""
