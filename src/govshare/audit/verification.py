"""Checking the audit chain: its entries, its keyed head, and the checkpoints kept outside the database.

Problems, the first one found being reported (in this order):

- `wrong_key`: the node runs with another audit key than the chain's;
- `modified` / `deleted` / `reordered`: an entry's hash or link does not hold;
- `checkpoint_mismatch`: a checkpoint's entry exists with another hash (the chain was cut and regrown, e.g.
  restored from an older copy and appended to);
- `truncated`: the head is ahead of the last entry, or a checkpoint names an entry past the last one (the
  tail was cut and the head rewound);
- `checkpoint_forged`: a checkpoint file whose signature or content does not hold;
- `checkpoint_missing`: a gap in the checkpoint numbers, a checkpoint that does not chain to the one before,
  or the log names a checkpoint newer than the newest file;
- `head_forged`: the head's MAC does not match (rewound or replaced without the audit key), or the head
  lost its MAC on a node that has written checkpoints;
- `head_unkeyed`: the head has entries but no MAC (a database from before migration 0009; the next append
  keys it).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from govshare.audit import chain, checkpoints
from govshare.audit.checkpoints import Checkpoint, Loaded
from govshare.audit.repository import AuditRepository
from govshare.core.node import NodeConfig, node_config
from govshare.models import AuditHead

OK_MESSAGE = "审计日志哈希链完整"
CHECKPOINT_ACTION = "audit.checkpoint"
WRONG_KEY = "审计密钥与本节点审计日志使用的不一致，已拒绝写入：请检查 GOVSHARE_AUDIT_KEY（操作未执行）"
UNKEYED_WITH_CHECKPOINTS = (
    "审计链头没有校验码，而本节点已写过审计检查点：审计日志可能被清空或回退。"
    "已拒绝写入（操作未执行），请审计员运行 govshare audit verify"
)
HEAD_MAC_MISMATCH = (
    "审计链头校验码不符：链头可能被回退或改写。已拒绝写入（操作未执行），请审计员运行 govshare audit verify"
)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_seq: int
    first_bad_seq: int | None = None
    problem: str | None = None  # see the module docstring
    message: str = OK_MESSAGE
    checkpoints: int = 0  # checkpoint files whose signature holds
    checkpoint_seq: int | None = None  # the entry the newest of them names

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head_seq": self.head_seq,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "message": self.message,
            "checkpoints": self.checkpoints,
            "checkpoint_seq": self.checkpoint_seq,
        }


def _is_pristine(head: AuditHead | None) -> bool:
    return head is None or (
        head.seq == 0 and head.entry_hash == chain.GENESIS_HASH and head.key_check is None
    )


def head_refusal(head: AuditHead | None, config: NodeConfig) -> str | None:
    """Why nothing may be appended onto this head (a Chinese message), or None when it may."""
    key = config.audit_key
    if head is not None and head.key_check is not None and head.key_check != chain.key_check(key):
        return WRONG_KEY
    if head is None or head.mac is None:
        # A node that never appended since migration 0009 (or a head from before it): the next append keys
        # it. Once checkpoints exist the head has been keyed, so a missing MAC means it was reset.
        return UNKEYED_WITH_CHECKPOINTS if checkpoints.any_checkpoint(config.audit_checkpoint_dir) else None
    if not hmac.compare_digest(head.mac, chain.head_mac(key, head.seq, head.entry_hash, head.key_check)):
        return HEAD_MAC_MISMATCH
    return None


@dataclass
class _Walk:
    """The state of one pass over the entries after a starting point."""

    checked: int = 0
    last_seq: int = 0
    last_hash: str = chain.GENESIS_HASH
    logged_checkpoint: int = 0  # the highest checkpoint number that `audit.checkpoint` entries name


def _broken(walk: _Walk, head_seq: int, seq: int | None, problem: str, message: str) -> ChainReport:
    return ChainReport(False, walk.checked, head_seq, seq, problem, message)


@dataclass(frozen=True)
class Verified:
    """The chain checked, outside the head lock, from checkpoint `number` (0: none) through entry `seq`,
    whose hash was `hash` (`precheck`)."""

    number: int
    seq: int
    hash: str


def _walk(
    session: Session, head_seq: int, start: Checkpoint | Verified | None, anchors: Sequence[Checkpoint]
) -> tuple[_Walk, ChainReport | None]:
    """Walk the entries after `start` (the whole chain when None), checking each link and each anchor."""
    repo = AuditRepository(session)
    key = node_config(session).audit_key
    walk = _Walk()
    if start is not None and start.seq > 0:
        anchored = repo.get(start.seq)
        if anchored is None:
            return walk, _broken(
                walk,
                head_seq,
                start.seq,
                "truncated",
                f"第 {start.seq} 条审计记录已不存在（第 {start.number} 个检查点记录了它）",
            )
        if anchored.entry_hash != start.hash:
            return walk, _mismatch(walk, head_seq, start)
        walk.last_seq, walk.last_hash = start.seq, start.hash
    pending = sorted((a for a in anchors if a.seq > walk.last_seq), key=lambda a: (a.seq, a.number))
    for anchor in (a for a in anchors if a.seq == 0):
        if anchor.hash != chain.GENESIS_HASH:
            return walk, _mismatch(walk, head_seq, anchor)
    index = 0
    for entry in repo.iterate(after=walk.last_seq):
        expected_seq = walk.last_seq + 1
        if chain.entry_hash(key, entry.prev_hash, entry) != entry.entry_hash:
            return walk, _broken(
                walk, head_seq, entry.seq, "modified", f"第 {entry.seq} 条审计记录的内容被修改"
            )
        if entry.prev_hash != walk.last_hash:
            successor = repo.first_with_prev_hash(walk.last_hash, entry.seq)
            if successor is not None:
                message = f"第 {entry.seq} 条审计记录的位置被调换（原应在其后的第 {successor} 条之后）"
                return walk, _broken(walk, head_seq, entry.seq, "reordered", message)
            missing = expected_seq if entry.seq > expected_seq else entry.seq
            return walk, _broken(walk, head_seq, missing, "deleted", f"第 {missing} 条审计记录被删除")
        if entry.seq != expected_seq:
            message = f"第 {expected_seq} 条起审计记录被重新编号"
            return walk, _broken(walk, head_seq, expected_seq, "reordered", message)
        while index < len(pending) and pending[index].seq == entry.seq:
            if pending[index].hash != entry.entry_hash:
                return walk, _mismatch(walk, head_seq, pending[index])
            index += 1
        number = entry.detail.get("checkpoint") if entry.action == CHECKPOINT_ACTION else None
        if entry.outcome == "success" and isinstance(number, int):
            walk.logged_checkpoint = max(walk.logged_checkpoint, number)
        walk.last_seq, walk.last_hash, walk.checked = entry.seq, entry.entry_hash, walk.checked + 1
    return walk, None


def _mismatch(walk: _Walk, head_seq: int, anchor: Checkpoint | Verified) -> ChainReport:
    message = (
        f"第 {anchor.seq} 条审计记录与第 {anchor.number} 个检查点记录的哈希不同："
        "审计日志在该处之前被截断后又重新写入（如用旧备份恢复后继续写入）"
    )
    return _broken(walk, head_seq, anchor.seq, "checkpoint_mismatch", message)


def _beyond(walk: _Walk, head_seq: int, anchors: Sequence[Checkpoint]) -> ChainReport | None:
    """The newest checkpoint that names an entry past the last one: the tail was cut."""
    beyond = [a for a in anchors if a.seq > walk.last_seq]
    if not beyond:
        return None
    newest = max(beyond, key=lambda a: (a.seq, a.number))
    message = (
        f"第 {walk.last_seq + 1} 条及之后的审计记录被删除：第 {newest.number} 个检查点"
        f"（写于 {newest.doc.written_at[:19]} UTC）记录审计链已到第 {newest.seq} 条，"
        f"数据库中只到第 {walk.last_seq} 条"
    )
    return _broken(walk, head_seq, walk.last_seq + 1, "truncated", message)


def _checkpoint_chain(walk: _Walk, head_seq: int, loaded: Loaded) -> ChainReport | None:
    if loaded.forged:
        bad = loaded.forged[0]
        message = f"第 {bad.number} 个检查点（{bad.file_name}）{bad.reason}：检查点可能被伪造或改写"
        return _broken(walk, head_seq, None, "checkpoint_forged", message)
    previous: Checkpoint | None = None
    for checkpoint in loaded.valid:
        expected = previous.number + 1 if previous else 1
        if checkpoint.number != expected:
            message = f"第 {expected} 个检查点文件缺失（检查点目录中有第 {checkpoint.number} 个）"
            return _broken(walk, head_seq, None, "checkpoint_missing", message)
        if checkpoint.doc.prev_checkpoint_digest != (previous.digest if previous else None):
            message = f"第 {checkpoint.number} 个检查点与前一个衔接不上：其间的检查点被替换或删除"
            return _broken(walk, head_seq, None, "checkpoint_missing", message)
        previous = checkpoint
    newest = previous.number if previous else 0
    if walk.logged_checkpoint > newest:
        message = (
            f"第 {walk.logged_checkpoint} 个检查点文件缺失：审计日志记载已写入该检查点，"
            f"检查点目录中只到第 {newest} 个"
        )
        return _broken(walk, head_seq, None, "checkpoint_missing", message)
    return None


def _head_problem(head: AuditHead | None, config: NodeConfig, loaded: Loaded) -> tuple[str, str] | None:
    if head is None or head.mac is None:
        if loaded.valid or loaded.forged:
            return "head_forged", "审计链头没有校验码，而本节点已写过审计检查点：链头被清空或改写"
        if _is_pristine(head):
            return None
        return "head_unkeyed", "审计链头还没有校验码（0009 升级前的数据库）：下一条审计记录写入时补上"
    key = config.audit_key
    if not hmac.compare_digest(head.mac, chain.head_mac(key, head.seq, head.entry_hash, head.key_check)):
        return "head_forged", "审计链头校验码不符：链头被没有审计密钥的人改写（如删除末尾记录后回退链头）"
    return None


def verify_chain(session: Session, *, checkpoint_dir: Path | None = None) -> ChainReport:
    """Check the whole chain, its head and every checkpoint in `checkpoint_dir` (default: the node's).

    Read-only: it writes nothing (the audited action is `service.verify`), so it also runs in a read-only
    session, e.g. against a database just restored from a backup.
    """
    config = node_config(session)
    head = AuditRepository(session).head()
    head_seq, head_hash = (head.seq, head.entry_hash) if head else (0, chain.GENESIS_HASH)
    if head and head.key_check and head.key_check != chain.key_check(config.audit_key):
        message = "当前配置的审计密钥不是本节点审计日志使用的密钥，无法校验（请检查 GOVSHARE_AUDIT_KEY）"
        return ChainReport(False, 0, head_seq, None, "wrong_key", message)
    loaded = checkpoints.load(
        checkpoint_dir or config.audit_checkpoint_dir, checkpoints.verifiers(config.audit_key)
    )
    count, anchored = len(loaded.valid), loaded.latest.seq if loaded.latest else None
    walk, problem = _walk(session, head_seq, None, loaded.valid)
    if problem is None and (head_seq != walk.last_seq or head_hash != walk.last_hash):
        message = f"第 {walk.last_seq + 1} 条及之后的审计记录被删除（链头记录为第 {head_seq} 条）"
        problem = _broken(walk, head_seq, walk.last_seq + 1, "truncated", message)
    problem = problem or _beyond(walk, head_seq, loaded.valid) or _checkpoint_chain(walk, head_seq, loaded)
    if problem is None and (found := _head_problem(head, config, loaded)) is not None:
        problem = _broken(walk, head_seq, None, *found)
    if problem is not None:
        return replace(problem, checkpoints=count, checkpoint_seq=anchored)
    message = OK_MESSAGE + (f"，与 {count} 个检查点一致" if count else "")
    return ChainReport(
        True, walk.checked, head_seq, message=message, checkpoints=count, checkpoint_seq=anchored
    )


def verify_since(
    session: Session, start: Checkpoint | Verified | None, head: AuditHead
) -> ChainReport | None:
    """The entries after checkpoint `start` up to the (locked) head: the first problem, or None.

    What a new checkpoint anchors is checked first, so a chain broken since the last checkpoint is never
    signed as good; the cost is the entries written since then, not the whole chain.
    """
    walk, problem = _walk(session, head.seq, start, [])
    if problem is None and (head.seq != walk.last_seq or head.entry_hash != walk.last_hash):
        message = f"第 {walk.last_seq + 1} 条及之后的审计记录被删除（链头记录为第 {head.seq} 条）"
        problem = _broken(walk, head.seq, walk.last_seq + 1, "truncated", message)
    return problem


def precheck(session: Session) -> Verified | None:
    """Check the entries since the newest checkpoint without holding the head lock (a read-only session),
    so that the locked part of writing the next checkpoint walks only what was appended meanwhile. None
    when something is wrong: the locked check then finds it again and refuses with the full message."""
    config = node_config(session)
    head = AuditRepository(session).head()
    if head is None:
        return None
    latest = checkpoints.load_latest(config.audit_checkpoint_dir, checkpoints.verifiers(config.audit_key))
    if isinstance(latest, checkpoints.Forged) or verify_since(session, latest, head) is not None:
        return None
    return Verified(latest.number if latest else 0, head.seq, head.entry_hash)
