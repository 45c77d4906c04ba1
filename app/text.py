"""Search text that behaves the same on SQLite and PostgreSQL.

SQLite's lower() and LIKE fold only ASCII, so the folding happens in Python: every searchable
row keeps a `search_text` column of its folded words, and the query is folded the same way.
"""

import unicodedata

LIKE_ESCAPE = "\\"


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return text.replace("ё", "е")


def topic_key(topic: str) -> str:
    """How a topic is stored for `?topic=` and compared: folded like `q`, so «Ёлка», «ёлка» and
    «ЕЛКА» are one topic."""
    return fold(topic.strip())


def search_text(*parts: str | None) -> str:
    return fold(" ".join(part.strip() for part in parts if part))


def contains_pattern(query: str) -> str:
    """A LIKE pattern matching `query` anywhere, with `%` and `_` taken literally."""
    folded = fold(query.strip())
    escaped = (
        folded.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"
