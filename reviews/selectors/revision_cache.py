"""Reads computed once per state of what they read (issue 13): the gate's answers (a gate
call computed about 30 queries; pipelines ask the same question again and again) and,
for pages that only read them, promotion requests' states (about 22 queries each; "my
pending approvals" evaluates up to ten).

An answer is cached under (version, environment, use case, the use case's and the
shared revision tokens, today's date). The database changes a token in the same
transaction as any row the gate reads (``reviews.gate_revisions``), so a cached answer is
never older than what it was computed from: a signature, a revocation, a finding, a
waiver, a policy change, an edit in the admin or by raw SQL each make the next call
compute again. The date is in the key because the date-bound rules (a periodic review
past its grace, an acceptance that expired) change with it and with nothing else.

The tokens are read before the version and the records the answer is computed from, so an
answer stored under a token was computed from that state or a later one, never an
earlier one. An answer is stored only when every table read to compute it has a revision
trigger; otherwise the gate computes every time (and the test of this module fails).

The cache is per process (``GATE_CACHE_ENTRIES`` answers and at most 256 request
states, least recently used first out; 0 turns it off); with a shared cache
(``DJANGO_CACHE_URL``: Redis) the answers are also kept there for every process and
host. A gate call costs then three queries: the token, the version, the log row.

A cached request state is shared by the requests of one process: for reading only (a
page), never for a decision that writes (signing reads its own, in its transaction). Each
computation runs in a memo scope of its own, inside the recording, so that what a
memoized read returns is recorded with the computation that uses it; inside an outer memo
scope nothing is cached.
"""

from __future__ import annotations

import copy
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from core.memo import in_scope, memo_scope
from inventory.models import ModelVersion
from reviews.gate_revisions import SCOPES, SHARED
from reviews.models import GateRevision, PromotionRequest
from reviews.selectors.gate import GateDecision, gate_decision
from reviews.selectors.promotion import RequestState, request_state

# A table read: FROM "t" / JOIN "t" (quoted by the ORM; raw SQL may not quote).
_READ = re.compile(r'\b(?:FROM|JOIN)\s+"?([A-Za-z_]\w*)"?', re.IGNORECASE)
COVERED = frozenset(SCOPES)
# A request state holds rows and manifests (tens of KB): fewer of them.
STATES_MAX = 256


@dataclass(frozen=True)
class _Answer:
    allowed: bool
    reasons: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    request_id: int | None

    def decision(self, version: ModelVersion) -> GateDecision:
        return GateDecision(
            allowed=self.allowed,
            reasons=copy.deepcopy(self.reasons),
            warnings=copy.deepcopy(self.warnings),
            version=version,
            request_id=self.request_id,
        )


class _Lru:
    def __init__(self) -> None:
        self._items: OrderedDict[tuple, _Answer] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> _Answer | None:
        with self._lock:
            answer = self._items.get(key)
            if answer is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return answer

    def put(self, key: tuple, answer: _Answer, size: int) -> None:
        with self._lock:
            self._items[key] = answer
            self._items.move_to_end(key)
            while len(self._items) > size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0


_answers = _Lru()
_states = _Lru()


def cache_stats(which: str = "gate") -> dict[str, int]:
    lru = _answers if which == "gate" else _states
    return {"hits": lru.hits, "misses": lru.misses, "entries": len(lru._items)}


def cache_clear() -> None:
    _answers.clear()
    _states.clear()


def tables_read(sql: str) -> set[str]:
    return {name.lower() for name in _READ.findall(sql)}


@contextmanager
def _recording() -> Iterator[set[str]]:
    """The tables the queries run inside the block read."""
    tables: set[str] = set()

    def record(execute, sql, params, many, context):
        tables.update(tables_read(sql))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield tables


def _today() -> tuple:
    """The dates the rules read: UTC's and the site's (they differ near midnight when
    TIME_ZONE is not UTC)."""
    return timezone.now().date(), timezone.localdate()


def _tokens(use_case_id: int) -> tuple[str, str] | None:
    if getattr(settings, "GATE_CACHE_ENTRIES", 0) <= 0 or in_scope():
        return None
    found = dict(
        GateRevision.objects.filter(scope__in=[SHARED, use_case_id]).values_list("scope", "token")
    )
    if SHARED not in found or use_case_id not in found:
        return None  # no triggers yet (or a database without them): compute
    return found[SHARED], found[use_case_id]


def decide(version: ModelVersion, environment: str) -> GateDecision:
    """``gate_decision(version, environment)``, from the cache when nothing it read has
    changed since it was computed."""
    use_case_id = version.model.use_case_id
    tokens = _tokens(use_case_id)
    if tokens is None:
        return gate_decision(version, environment)
    key = (version.pk, environment, use_case_id, tokens, _today())
    answer = _answers.get(key) or _shared_get(key)
    if answer is not None:
        return answer.decision(version)
    # Read the version again after the tokens: the answer must not come from a row older
    # than the tokens it is stored under.
    fresh = ModelVersion.objects.select_related("model__use_case").get(pk=version.pk)
    with _recording() as tables, memo_scope():
        decision = gate_decision(fresh, environment)
    if fresh.model.use_case_id == use_case_id and tables <= COVERED:
        answer = _Answer(
            decision.allowed,
            copy.deepcopy(decision.reasons),
            copy.deepcopy(decision.warnings),
            decision.request_id,
        )
        _answers.put(key, answer, settings.GATE_CACHE_ENTRIES)
        _shared_put(key, answer)
    return decision


# --- shared by the processes (DJANGO_CACHE_URL) -------------------------------------------
# With a shared cache (Redis: governance.settings_cache) an answer computed by one web
# process serves the others and the other hosts: the key names the same tokens, so it is
# exactly as fresh as a local one. Without it (local memory) the LRU above is enough.
SHARED_TIMEOUT = 24 * 60 * 60  # the key names the day; this only bounds memory


def _shared() -> bool:
    return settings.CACHES["default"]["BACKEND"] == "governance.cache_backend.TolerantRedisCache"


def _shared_key(key: tuple) -> str:
    return "gate-answer:" + hashlib.sha256(repr(key).encode()).hexdigest()


def _shared_get(key: tuple) -> _Answer | None:
    if not _shared():
        return None
    answer = cache.get(_shared_key(key))
    if not isinstance(answer, _Answer):
        return None
    _answers.put(key, answer, settings.GATE_CACHE_ENTRIES)
    return answer


def _shared_put(key: tuple, answer: _Answer) -> None:
    if _shared():
        cache.set(_shared_key(key), answer, SHARED_TIMEOUT)


def request_state_for_reading(request: PromotionRequest) -> RequestState:
    """``request_state(request)``, from the cache when nothing it read has changed since
    it was computed. Read only: the state is shared (see the module's docstring)."""
    use_case_id = request.model_version.model.use_case_id
    tokens = _tokens(use_case_id)
    if tokens is None:
        return request_state(request)
    key = (request.pk, use_case_id, tokens, _today())
    state = _states.get(key)
    if state is not None:
        return state
    fresh = PromotionRequest.objects.select_related("model_version__model__use_case").get(
        pk=request.pk
    )
    with _recording() as tables, memo_scope():
        state = request_state(fresh)
    if fresh.model_version.model.use_case_id == use_case_id and tables <= COVERED:
        _states.put(key, state, min(settings.GATE_CACHE_ENTRIES, STATES_MAX))
    return state
