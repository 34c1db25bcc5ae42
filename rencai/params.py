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
