"""Procedure search for citizens: Vietnamese without diacritics, any case, any word order.

The procedures in force are folded once (`fold_vietnamese`) into an in-memory index (a
sorted vocabulary of name and field words with their postings), cached per process and
rebuilt when the catalog's signature (count, latest `updated_at`, fields) changes. A search
is then a few bisections and set intersections: a few milliseconds for thousands of
procedures, with one aggregate query to check that the index is still current.

Ranking, best first: every query word found in the procedure's name; then matches that
need the procedure code; then matches that need the field's name. Inside a rank, the
query's words in a row in the name come first, then whole words over word prefixes, then
shorter names."""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Max

from tinhso.catalog.models import Field, ImplementingLevel, OnlineAvailability, Procedure
from tinhso.core.text import fold_vietnamese

#: `online=ONLINE_ANY` keeps procedures offered fully or partially online.
ONLINE_ANY = "any"

RANK_NAME = 0
RANK_CODE = 1
RANK_FIELD = 2

_WORD = re.compile(r"[0-9a-z]+")
_QUERY_WORD = re.compile(r"[0-9a-z]+(?:\.[0-9a-z]+)*")


@dataclass(frozen=True)
class Entry:
    """What the search needs to know, and the result list shows, of one procedure."""

    pk: int
    code: str
    name: str
    field_code: str
    field_name: str
    level: str
    online: str
    is_essential: bool
    agency_kinds: frozenset[str]
    agency_ids: frozenset[int]
    name_words: tuple[str, ...]


@dataclass
class Index:
    signature: tuple
    entries: list[Entry]
    name_vocabulary: list[str] = field(default_factory=list)
    name_postings: dict[str, set[int]] = field(default_factory=dict)
    field_vocabulary: list[str] = field(default_factory=list)
    field_postings: dict[str, set[int]] = field(default_factory=dict)
    folded_codes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Filters:
    field: str = ""
    agency_id: int | None = None
    agency_kind: str = ""
    level: str = ""
    online: str = ""


NO_FILTERS = Filters()


def words_of(text: str) -> list[str]:
    """The folded words of `text` (`Đăng ký, khai sinh` → `dang`, `ky`, `khai`, `sinh`)."""
    return _WORD.findall(fold_vietnamese(text))


def query_words(query: str) -> list[str]:
    """The folded words of a query, keeping dotted codes whole (`1.001193`)."""
    return _QUERY_WORD.findall(fold_vietnamese(query))


# --- the index ---------------------------------------------------------------------------------

_lock = threading.Lock()
_cached: Index | None = None


def catalog_signature() -> tuple:
    """Changes whenever a procedure is added, saved, (de)activated through `save()`, or a
    field is added or renamed (fields are few: their names are part of the signature)."""
    procedures = Procedure.objects.aggregate(
        n=Count("pk"), latest=Max("updated_at"), last_pk=Max("pk")
    )
    fields = hash(tuple(Field.objects.order_by("pk").values_list("pk", "name")))
    return (procedures["n"], procedures["latest"], procedures["last_pk"], fields)


def build_index(signature: tuple = ()) -> Index:
    """The index of the procedures in force, read from the database."""
    procedures = (
        Procedure.objects.filter(is_active=True)
        .select_related("field")
        .prefetch_related("agencies")
        .order_by("code")
    )
    entries = [
        Entry(
            pk=p.pk,
            code=p.code,
            name=p.name,
            field_code=p.field.code,
            field_name=p.field.name,
            level=p.level,
            online=p.online,
            is_essential=p.is_essential,
            agency_kinds=frozenset(p.agency_kinds or ()),
            agency_ids=frozenset(a.pk for a in p.agencies.all()),
            name_words=tuple(words_of(p.name)),
        )
        for p in procedures
    ]
    return index_from_entries(entries, signature)


def index_from_entries(entries: list[Entry], signature: tuple = ()) -> Index:
    index = Index(signature=signature, entries=entries)
    for i, entry in enumerate(entries):
        for word in entry.name_words:
            index.name_postings.setdefault(word, set()).add(i)
        for word in words_of(entry.field_name):
            index.field_postings.setdefault(word, set()).add(i)
        index.folded_codes.append(fold_vietnamese(entry.code))
    index.name_vocabulary = sorted(index.name_postings)
    index.field_vocabulary = sorted(index.field_postings)
    return index


def current_index() -> Index:
    """The cached index, rebuilt first if the catalog changed since it was built."""
    global _cached
    signature = catalog_signature()
    index = _cached
    if index is not None and index.signature == signature:
        return index
    with _lock:
        if _cached is None or _cached.signature != signature:
            _cached = build_index(signature)
        return _cached


def invalidate_index() -> None:
    global _cached
    _cached = None


# --- matching ----------------------------------------------------------------------------------


def _prefixed(vocabulary: list[str], postings: dict[str, set[int]], prefix: str) -> set[int]:
    """The entries with a word starting with `prefix` (the vocabulary is sorted)."""
    found: set[int] = set()
    start = bisect.bisect_left(vocabulary, prefix)
    for word in vocabulary[start:]:
        if not word.startswith(prefix):
            break
        found |= postings[word]
    return found


def _all_parts(vocabulary: list[str], postings: dict[str, set[int]], word: str) -> set[int]:
    """Entries with every part of a (possibly dotted) query word as a word prefix."""
    parts = [p for p in word.split(".") if p]
    if not parts:
        return set()
    found = _prefixed(vocabulary, postings, parts[0])
    for part in parts[1:]:
        found &= _prefixed(vocabulary, postings, part)
    return found


def _in_order(name_words: tuple[str, ...], words: list[str]) -> bool:
    """Whether the query's words appear in a row, in order, in the name."""
    n = len(words)
    return any(list(name_words[i : i + n]) == words for i in range(len(name_words) - n + 1))


def _keep(entry: Entry, filters: Filters) -> bool:
    if filters.field and entry.field_code != filters.field:
        return False
    if filters.level in (ImplementingLevel.PROVINCE, ImplementingLevel.COMMUNE):
        if entry.level not in (filters.level, ImplementingLevel.BOTH):
            return False
    elif filters.level and entry.level != filters.level:
        return False
    if filters.online == ONLINE_ANY:
        if entry.online not in (OnlineAvailability.FULL, OnlineAvailability.PARTIAL):
            return False
    elif filters.online and entry.online != filters.online:
        return False
    if filters.agency_id is None:
        return True
    return filters.agency_id in entry.agency_ids or filters.agency_kind in entry.agency_kinds


def search_index(index: Index, query: str, filters: Filters = NO_FILTERS) -> list[Entry]:
    """The entries of `index` matching every word of `query` and the filters, best first
    (all of them in code order when the query is empty)."""
    words = query_words(query)
    if not words:
        return [e for e in index.entries if _keep(e, filters)]

    in_name = [_all_parts(index.name_vocabulary, index.name_postings, w) for w in words]
    in_field = [_all_parts(index.field_vocabulary, index.field_postings, w) for w in words]
    in_code = [
        {i for i, code in enumerate(index.folded_codes) if w in code}
        if any(c.isdigit() for c in w)
        else set()
        for w in words
    ]
    candidates: set[int] | None = None
    for name_hits, field_hits, code_hits in zip(in_name, in_field, in_code, strict=True):
        hits = name_hits | field_hits | code_hits
        candidates = hits if candidates is None else candidates & hits
        if not candidates:
            return []

    ranked: list[tuple[tuple, Entry]] = []
    for i in candidates or ():
        entry = index.entries[i]
        if not _keep(entry, filters):
            continue
        if all(i in hits for hits in in_name):
            rank = RANK_NAME
        elif all(i in n or i in c for n, c in zip(in_name, in_code, strict=True)):
            rank = RANK_CODE
        else:
            rank = RANK_FIELD
        exact_code = entry.code.lower() in words
        whole_words = sum(1 for w in words if w in entry.name_words)
        key = (
            rank,
            not exact_code,
            not _in_order(entry.name_words, words),
            -whole_words,
            len(entry.name_words),
            entry.code,
        )
        ranked.append((key, entry))
    ranked.sort(key=lambda pair: pair[0])
    return [entry for _, entry in ranked]


def search(query: str, filters: Filters = NO_FILTERS) -> list[Entry]:
    """Procedures in force matching `query` and `filters`, best first."""
    return search_index(current_index(), query, filters)


def codes(entries: Iterable[Entry]) -> list[str]:
    return [e.code for e in entries]
