"""Finding a subscriber from whatever the caller or the agent has at hand.

One search box takes a contract number (whole or its beginning), a phone number
in any format (``+7 (495) 123-45-67``, ``8495...``, bare digits), a name in any
word order (``иванов пётр``) or an address (``тверская 12``).

How it stays fast with a million subscribers on PostgreSQL:

* contract numbers use the unique btree index (and its ``varchar_pattern_ops``
  twin for prefixes);
* phone numbers match ``ContactPoint.normalized`` exactly (btree) or, for a
  fragment of five or more digits, through a trigram GIN index;
* words (lower case, ``ё`` folded to ``е``) must each begin a word of
  ``Subscriber.search_text``, answered by a full-text GIN index on
  ``to_tsvector('simple', search_text)``; a single word that begins no word is
  then looked for anywhere (mid-word) through a trigram GIN index (migration 0003).

On SQLite every word must be contained anywhere in ``search_text`` (a table
scan; fine for the demo).
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import Q, QuerySet

from .models import Channel, ContactPoint, Subscriber, fold_search_text, normalize_phone

PHONE_CHARS_RE = re.compile(r"^[\d\s()+\-.]+$")
CONTRACT_RE = re.compile(r"^[\w\-/.]+$")
MIN_PHONE_DIGITS = 5
MAX_WORDS = 8
TOKEN_RE = re.compile(r"\w+")


def search_subscribers(query: str, limit: int = 20) -> list[Subscriber]:
    """Subscribers matching ``query``, best matches first, at most ``limit`` of them.

    Order: exact contract number, contract numbers starting with the query,
    phone matches, then subscribers whose name/address contain every word.
    """
    query = (query or "").strip()
    if not query or limit <= 0:
        return []
    found: dict[int, Subscriber] = {}

    def take(rows: list[Subscriber]) -> None:
        for row in rows:
            if len(found) >= limit:
                return
            found.setdefault(row.pk, row)

    base = Subscriber.objects.select_related("address__district")
    words = query.split()
    if len(words) == 1 and CONTRACT_RE.match(query):
        take(list(base.filter(contract_number=query)))
        if len(found) < limit:
            take(list(base.filter(contract_number__startswith=query).order_by("contract_number")[: limit + 1]))

    digits = re.sub(r"\D", "", query)
    phone_like = bool(PHONE_CHARS_RE.match(query)) and len(digits) >= MIN_PHONE_DIGITS
    if phone_like and len(found) < limit:
        phones = ContactPoint.objects.filter(channel__in=[Channel.PHONE, Channel.SMS])
        normalized = normalize_phone(query)
        if len(normalized) == 11:
            phones = phones.filter(normalized=normalized)
        else:
            phones = phones.filter(normalized__contains=digits)
        ids = list(phones.order_by().values_list("subscriber_id", flat=True)[: limit * 2])
        take(_sorted(list(base.filter(pk__in=ids).order_by())))

    if not phone_like and len(found) < limit:
        folded = [w for w in (fold_search_text(w).strip(",;") for w in words[:MAX_WORDS]) if w]
        if connection.vendor == "postgresql":
            take(_words_postgresql(base, folded, limit))
        else:
            take(_words_contained(base, folded, limit))
    return list(found.values())


def _sorted(rows: list[Subscriber]) -> list[Subscriber]:
    # Candidates are sorted in Python: an ORDER BY in SQL would tempt the
    # planner into walking the contract index instead of the search index.
    return sorted(rows, key=lambda s: s.contract_number)


def _words_contained(base: QuerySet[Subscriber], words: list[str], limit: int) -> list[Subscriber]:
    """Subscribers whose search text contains every word (anywhere, even mid-word)."""
    if not words:
        return []
    condition = Q()
    for word in words:
        condition &= Q(search_text__contains=word)
    return _sorted(list(base.filter(condition).order_by()[: limit * 5]))


# Street-type and address abbreviations: in nearly every address, so they only slow the search down.
ADDRESS_WORDS = frozenset(
    [
        "ул",
        "улица",
        "ш",
        "шоссе",
        "просп",
        "проспект",
        "пр",
        "бул",
        "бульвар",
        "пер",
        "переулок",
        "наб",
        "набережная",
        "пл",
        "площадь",
        "проезд",
        "туп",
        "тупик",
        "мкр",
        "д",
        "дом",
        "кв",
        "квартира",
        "под",
        "подъезд",
        "эт",
        "этаж",
        "корп",
        "к",
        "стр",
    ]
)
NUMBER_RE = re.compile(r"[^\w/.-]")


def _tsquery(words: list[str]) -> str:
    """A full-text query: each word a prefix, numbers (``12``, ``10/10``, ``12к2``) whole.

    A building number typed by the agent is complete: matched as a prefix,
    "10" would also match every contract number starting with 10.
    """
    parts: list[str] = []
    for word in words:
        word = word.strip(",;.")
        if any(ch.isdigit() for ch in word):
            token = NUMBER_RE.sub("", word).strip("./-")
            if token:
                parts.append("'" + token + "'")
            continue
        parts += [f"{t}:*" for t in TOKEN_RE.findall(word) if t not in ADDRESS_WORDS]
    return " & ".join(parts)


def _words_postgresql(base: QuerySet[Subscriber], words: list[str], limit: int) -> list[Subscriber]:
    """Every word is the beginning of a word of the search text (full-text GIN index).

    Intersecting several common words is far cheaper on the full-text index than
    on the trigram one. When that finds nothing, a single word is looked for
    anywhere (mid-word) through the trigram index.
    """
    tsquery = _tsquery(words)
    if tsquery:
        rows = list(
            base.extra(  # the query text is a bound parameter
                where=["to_tsvector('simple'::regconfig, search_text) @@ to_tsquery('simple'::regconfig, %s)"],
                params=[tsquery],
            ).order_by()[: limit * 5]
        )
        if rows or len(words) > 1:
            return _sorted(rows)
    return _words_contained(base, words, limit)
