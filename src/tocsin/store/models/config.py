"""Configuration held as data: severity levels and rules, intake forms, settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONType


class SeverityLevelRow(Base):
    __tablename__ = "severity_levels"
    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text, default="")
    ack_within_minutes: Mapped[int] = mapped_column(Integer)
    update_every_minutes: Mapped[int | None] = mapped_column(Integer)
    coverage: Mapped[str] = mapped_column(String(20))


class SeverityRuleRow(Base):
    __tablename__ = "severity_rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # the rule exactly as written in configuration (validated by domain.severity.parse_rule)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)


class Form(Base):
    __tablename__ = "forms"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)


class Setting(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType)
