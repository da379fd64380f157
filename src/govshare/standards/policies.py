"""Rules of the standards library: code-set keys and which version is current."""

from __future__ import annotations

from datetime import date

from govshare.models import CodeSetVersion
from govshare.standards import validators


def key_of(code: str) -> str:
    """The URL-safe key of a code set: "GB/T 2261.1" → "GB-T-2261.1" (keys are given as they are)."""
    return "-".join(code.strip().replace("/", " ").split())


def current_version(versions: list[CodeSetVersion], today: date | None = None) -> CodeSetVersion | None:
    """The newest version in effect on `today`: valid_from not after it (or none), valid_to after it (or
    none); among several, the latest valid_from, then the latest added. None when none is in effect."""
    today = today or validators.today_in_beijing()
    effective = [
        v
        for v in versions
        if (v.valid_from is None or v.valid_from <= today) and (v.valid_to is None or v.valid_to > today)
    ]
    if not effective:
        return None
    return max(effective, key=lambda v: (v.valid_from or date.min, v.id))
