"""Character tables and patterns shared by the scalar validators and the vectorized (Polars) ones.

Both engines must agree value for value, so nothing here relies on an engine's notion of "whitespace",
"digit" or "upper case" (Python's `\\d` and `str.isspace`, Rust's `\\d` and `char::is_whitespace` differ on
non-ASCII characters): every class is spelt out.
"""

from __future__ import annotations

# Full-width ASCII (U+FF01–U+FF5E) and the ideographic space, as typed with a Chinese input method.
FULLWIDTH = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]
HALFWIDTH = [chr(c) for c in range(0x21, 0x7F)] + [" "]
_HALFWIDTH_TABLE = str.maketrans(dict(zip(FULLWIDTH, HALFWIDTH, strict=True)))

# What counts as white space when trimming and compacting: ASCII blanks, no-break and typographic spaces,
# line/paragraph separators, zero-width space and the byte-order mark (often left at the start of a CSV).
WHITESPACE = (
    " \t\n\r\f\v\u00a0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200C))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# A regex character class of them; the characters stand for themselves inside brackets in Python and Rust.
WHITESPACE_CLASS = "[" + WHITESPACE + "]"

ASCII_LOWER = [chr(c) for c in range(ord("a"), ord("z") + 1)]
ASCII_UPPER = [c.upper() for c in ASCII_LOWER]
_UPPER_TABLE = str.maketrans(dict(zip(ASCII_LOWER, ASCII_UPPER, strict=True)))
_LOWER_TABLE = str.maketrans(dict(zip(ASCII_UPPER, ASCII_LOWER, strict=True)))


def halfwidth(value: str) -> str:
    """Full-width ASCII letters, digits and punctuation to their ASCII forms; nothing else changes."""
    return value.translate(_HALFWIDTH_TABLE)


def trim(value: str) -> str:
    return value.strip(WHITESPACE)


def drop_whitespace(value: str) -> str:
    return "".join(c for c in value if c not in WHITESPACE)


def ascii_upper(value: str) -> str:
    """a–z to A–Z only (`str.upper` maps 'ß' to 'SS' and would change a value's length)."""
    return value.translate(_UPPER_TABLE)


def ascii_lower(value: str) -> str:
    return value.translate(_LOWER_TABLE)
