"""Tamper evidence: a hash chain over audit records, and its verification."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical(obj: Any) -> bytes:
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def digest(obj: Any) -> str:
    return hashlib.sha256(canonical(obj)).hexdigest()


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


def record_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, subject: str,
                data: dict[str, Any]) -> str:
    body = {"seq": seq, "at": at, "actor": actor, "action": action, "subject": subject,
            "data": data}
    return hashlib.sha256(prev_hash.encode() + canonical(body)).hexdigest()


@dataclass(frozen=True)
class Problem:
    seq: int
    message: str


def verify_chain(records: Iterable[AuditRecord], head_seq: int, head_hash: str) -> list[Problem]:
    """Every record must link to the one before and hash to what it claims; the chain
    must end at the recorded head, so a deleted or edited row shows up."""
    problems: list[Problem] = []
    prev_hash, expected_seq = GENESIS, 1
    for r in records:
        if r.seq != expected_seq:
            problems.append(Problem(expected_seq, f"record(s) {expected_seq}..{r.seq - 1} missing"))
        if r.prev_hash != prev_hash:
            problems.append(Problem(r.seq, "does not link to the record before it"))
        if record_hash(r.prev_hash, r.seq, r.at, r.actor, r.action, r.subject, r.data) != r.hash:
            problems.append(Problem(r.seq, "content changed after it was written"))
        prev_hash, expected_seq = r.hash, r.seq + 1
    if expected_seq - 1 != head_seq:
        problems.append(Problem(head_seq, f"chain ends at {expected_seq - 1}, head says {head_seq}"))
    elif prev_hash != head_hash:
        problems.append(Problem(head_seq, "last record's hash differs from the head"))
    return problems
