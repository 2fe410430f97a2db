"""A person's paging preferences: contact-method verifications and notification rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class ContactVerification(Base):
    """A test message sent to a contact method, and the one-time code and link in it (only
    their hashes: they are made when the dispatcher renders the message)."""

    __tablename__ = "contact_verifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_method_id: Mapped[int] = mapped_column(
        ForeignKey("contact_methods.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(500))     # the address the test went to
    notification_id: Mapped[int | None] = mapped_column(Integer)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    link_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    wrong_codes: Mapped[int] = mapped_column(Integer, default=0)
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NotificationRule(Base):
    """One of a person's rules: page on this contact method, this many minutes after an
    escalation step pages them (unless acknowledged by then), for this urgency or all."""

    __tablename__ = "notification_rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    contact_method_id: Mapped[int] = mapped_column(
        ForeignKey("contact_methods.id", ondelete="CASCADE"))
    delay_minutes: Mapped[int] = mapped_column(Integer)
    urgency: Mapped[str | None] = mapped_column(String(10))   # high | low | None: every incident
