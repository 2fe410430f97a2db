"""All tables; importing this module registers them on Base.metadata."""

from .alerting import (
    Alert,
    AlertGroup,
    DeadLetter,
    IntakeEvent,
    IntakeSpool,
    Integration,
    IntegrationNotice,
    SilenceRow,
)
from .audit import AuditHead, AuditLog
from .auth import ApiToken, User, WebSession
from .base import Base
from .config import Form, Setting, SeverityLevelRow, SeverityRuleRow
from .escalation import (
    AckToken,
    ContactMethod,
    EngineLease,
    Escalation,
    EscalationPolicy,
    Notification,
    NotificationAttempt,
    PersonFeed,
    ScheduleOverride,
    ScheduleRow,
)
from .incident import Attachment, Counter, Incident, IncidentService, TimelineEntry
from .org import Service, Team, TeamMember
from .people import ContactVerification, NotificationRule
from .roles import IncidentTask, Playbook, RoleAssignment, RoleDef

__all__ = [
    "Alert", "AlertGroup", "DeadLetter", "IntakeEvent", "IntakeSpool", "Integration",
    "IntegrationNotice", "SilenceRow",
    "ApiToken", "Attachment", "AuditHead", "AuditLog", "Base", "Counter", "Form", "Incident",
    "IncidentService", "Service", "Setting", "SeverityLevelRow", "SeverityRuleRow", "Team",
    "TeamMember", "TimelineEntry", "User", "WebSession", "AckToken", "ContactMethod", "EngineLease",
    "Escalation",
    "EscalationPolicy", "Notification", "NotificationAttempt", "PersonFeed", "ScheduleOverride",
    "ScheduleRow", "IncidentTask", "Playbook", "RoleAssignment", "RoleDef",
    "ContactVerification", "NotificationRule",
]
