"""Checking the "who looked at me" index (`audit_access_subject`) against the audit chain.

Every data-call entry carries, in its hashed detail, the digests of the persons and organisations it
touched (`detail.subjects`) and the resource it read, so the index is derived data: each row must name an
entry that lists its digest, and each listed digest must have its row. A row deleted to hide a look-up is
`missing`; a row planted to point at someone else, or moved to another resource, is `extra` (a changed row
is both). Entries written before the digests were recorded (no `subjects`) cannot be checked; their rows
are counted as `unverifiable`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from govshare.audit import service as audit
from govshare.auth.actor import Actor
from govshare.auth.guard import action
from govshare.auth.permissions import Permission
from govshare.sharing.repository import SharingRepository

WINDOW = 5000  # audit seqs compared per round: two keyset reads, memory bounded by one window
SHOWN = 100  # rows named in the report per kind of problem


@dataclass(frozen=True)
class IndexRow:
    seq: int
    digest: str
    resource_id: int


@dataclass
class IndexReport:
    checked: int = 0  # index rows that match their entry
    missing: list[IndexRow] = field(default_factory=list)  # first SHOWN of missing_count
    extra: list[IndexRow] = field(default_factory=list)
    missing_count: int = 0
    extra_count: int = 0
    unverifiable: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing_count or self.extra_count)

    @property
    def message(self) -> str:
        if self.ok:
            return f"“谁查看了我”索引与审计日志一致（核对 {self.checked} 条）"
        return (
            f"“谁查看了我”索引与审计日志不一致：{self.missing_count} 条缺失（审计记录中有、索引中没有），"
            f"{self.extra_count} 条多余（索引中有、审计记录中没有）"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "missing": self.missing_count,
            "extra": self.extra_count,
            "unverifiable": self.unverifiable,
            "message": self.message,
            "missing_rows": [vars(r) for r in self.missing],
            "extra_rows": [vars(r) for r in self.extra],
        }


def _expected(
    entries: list[tuple[int, dict[str, Any]]], resources: dict[str, int]
) -> tuple[set[IndexRow], set[int]]:
    rows: set[IndexRow] = set()
    legacy: set[int] = set()
    for seq, detail in entries:
        subjects = detail.get("subjects")
        if not isinstance(subjects, list):
            if "rows" in detail:  # a data call recorded before the digests were: its rows cannot be checked
                legacy.add(seq)
            continue  # a refused call touched nobody
        resource = detail.get("resource")
        resource_id = resources.get(resource, -1) if isinstance(resource, str) else 0
        rows.update(IndexRow(seq, str(d), resource_id) for d in subjects)
    return rows, legacy


def _note(report: IndexReport, kind: str, rows: set[IndexRow]) -> None:
    ordered = sorted(rows, key=lambda r: (r.seq, r.digest, r.resource_id))
    shown: list[IndexRow] = getattr(report, kind)
    shown.extend(ordered[: max(0, SHOWN - len(shown))])
    setattr(report, f"{kind}_count", getattr(report, f"{kind}_count") + len(rows))


def _check_index(session: Session) -> IndexReport:
    """Compare the index with the chain's data-call entries, window by window of audit seqs."""
    repo = SharingRepository(session)
    resources = repo.resource_ids()
    report = IndexReport()
    span = repo.index_span()
    for low in range(1, span, WINDOW):
        high = low + WINDOW
        expected, legacy = _expected(repo.data_entries(low, high), resources)
        actual: set[IndexRow] = set()
        for seq, digest, resource_id in repo.index_rows(low, high):
            if seq in legacy:
                report.unverifiable += 1
            else:
                actual.add(IndexRow(seq, digest, resource_id))
        report.checked += len(actual & expected)
        _note(report, "missing", expected - actual)
        _note(report, "extra", actual - expected)
    return report


@action(Permission.AUDIT_VERIFY)
def verify_access_index(session: Session, actor: Actor) -> IndexReport:
    """The auditor's check of the "who looked at me" index; audited (outcome failure when it disagrees)."""
    report = _check_index(session)
    summary = report.as_dict()
    audit.record(
        session,
        actor,
        "sharing.verify_index",
        target_type="access_index",
        outcome=audit.SUCCESS if report.ok else audit.FAILURE,
        detail={k: v for k, v in summary.items() if not k.endswith("_rows")},
    )
    return report
