"""Verify the tamper-evident audit log against itself and against the timeline."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.audit import AuditRecord, Problem, verify_chain
from ..store.uow import UnitOfWork, entry_digest


@dataclass(frozen=True)
class VerifyReport:
    records: int
    entries: int
    head_seq: int
    head_hash: str
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(uow: UnitOfWork) -> VerifyReport:
    with uow:
        if uow.session.get_bind().dialect.name == "postgresql":
            # one snapshot for head, log and timeline, so concurrent writers cause no false alarm
            uow.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        head_seq, head_hash = uow.audit.head()
        seen: dict[int, tuple[int, str]] = {}  # timeline entry id -> (audit seq, digest)
        records = []
        for row in uow.audit.iter_all():
            rec = AuditRecord(row.seq, row.at.isoformat(), row.actor, row.action, row.subject,
                              dict(row.data), row.prev_hash, row.hash)
            records.append(rec)
            if row.action == "timeline.append":
                seen[int(row.data["entry_id"])] = (row.seq, row.data["digest"])
        problems = verify_chain(records, head_seq, head_hash)
        count = 0
        for entry in uow.timeline.iter_all():
            count += 1
            found = seen.pop(entry.id, None)
            if found is None:
                problems.append(Problem(0, f"timeline entry {entry.id} has no audit record "
                                           "(written behind the log's back)"))
            elif found[1] != entry_digest(entry):
                problems.append(Problem(found[0], f"timeline entry {entry.id} was changed"))
        for entry_id, (seq, _) in sorted(seen.items()):
            problems.append(Problem(seq, f"timeline entry {entry_id} was deleted"))
        return VerifyReport(len(records), count, head_seq, head_hash, problems)
