"""Every ORM model, imported in one place for Alembic and metadata-wide operations."""

from app.accounts.models import ConsoleSession, User
from app.audit.models import AuditEvent
from app.auth.models import ApiKey, ApiKeyGrant
from app.db import Base
from app.idempotency.models import IdempotencyRecord
from app.intake.models import Assessment
from app.invitations.models import Invitation
from app.jobs.models import ReportJob
from app.mail.models import EmailMessage
from app.organizations.models import BenchmarkSnapshot, Organization
from app.questionnaire.models import QuestionnaireVersion
from app.ratelimit import RateLimitState
from app.reports.cache import ReportFile

__all__ = [
    "ApiKey",
    "ApiKeyGrant",
    "Assessment",
    "AuditEvent",
    "Base",
    "BenchmarkSnapshot",
    "ConsoleSession",
    "EmailMessage",
    "IdempotencyRecord",
    "Invitation",
    "Organization",
    "QuestionnaireVersion",
    "RateLimitState",
    "ReportFile",
    "ReportJob",
    "User",
]
