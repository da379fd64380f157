"""How an audit entry is hashed into the chain.

entry_hash = HMAC-SM3(audit_key, prev_hash || canonical(entry)). The key lives outside the database, so
someone who can write to the database cannot recompute the chain after editing it. The position `seq`
is not hashed: order is carried by `prev_hash`, which lets verification tell a reordering from an edit.

Other keys are derived from the audit key, one per purpose (`derived_key`), so a MAC made for one purpose
can never be replayed as another: the head's MAC (`head_mac`) and the checkpoints' signing key
(audit/checkpoints.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from govshare.core.sm import hmac_sm3_hex
from govshare.models import AuditEntry

GENESIS_HASH = "0" * 64

HASHED_FIELDS = (
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_name",
    "department_code",
    "application_code",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "request_id",
    "client_addr",
    "purpose",
    "detail",
)


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def canonical(entry: AuditEntry) -> bytes:
    values: list[Any] = []
    for name in HASHED_FIELDS:
        value = getattr(entry, name)
        values.append(_timestamp(value) if isinstance(value, datetime) else value)
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def entry_hash(key: bytes, prev_hash: str, entry: AuditEntry) -> str:
    return hmac_sm3_hex(key, prev_hash.encode() + b"|" + canonical(entry))


def key_check(key: bytes) -> str:
    """A fingerprint of the audit key, stored with the chain head (it reveals nothing of the key)."""
    return hmac_sm3_hex(key, b"govshare-audit-key-check")


@lru_cache(maxsize=16)
def derived_key(key: bytes, purpose: str) -> bytes:
    """A key for one purpose, derived from the audit key (HMAC-SM3 as a PRF, labelled by purpose)."""
    return bytes.fromhex(hmac_sm3_hex(key, b"govshare/audit-key/" + purpose.encode()))


def head_mac(key: bytes, seq: int, entry_hash: str, key_check: str | None) -> str:
    """The chain head's MAC over its position, its hash and the key fingerprint."""
    message = f"audit-head|{seq}|{entry_hash}|{key_check or ''}".encode()
    return hmac_sm3_hex(derived_key(key, "head-mac/v1"), message)
