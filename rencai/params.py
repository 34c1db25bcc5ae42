"""Reading ids typed into query strings and forms. ``str.isdigit`` is not enough: "²" and
"１" are digits to it but not to ``int``, and 20 digits overflow the database."""

MAX_ID_DIGITS = 18  # below 2**63: an id typed into a URL never overflows a BigAutoField


def parse_id(raw) -> int | None:
    """A positive id from a query string, a form or an application's data: ASCII digits
    only, at most 18 of them; anything else is None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if 0 < raw < 10**MAX_ID_DIGITS else None
    text = str(raw or "").strip()
    if not text or len(text) > MAX_ID_DIGITS or not text.isascii() or not text.isdigit():
        return None
    return int(text) or None


MAX_QUERY_LENGTH = 100


def search_text(raw) -> str:
    """A search box's words: control characters dropped (PostgreSQL refuses a NUL in a
    query), tabs and line breaks as spaces, trimmed, at most ``MAX_QUERY_LENGTH``."""
    text = "".join(
        ch if ch.isprintable() else (" " if ch.isspace() else "") for ch in str(raw or "")
    )
    return text.strip()[:MAX_QUERY_LENGTH].strip()
