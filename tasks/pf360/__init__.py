"""PF360 API client: the real HTTP client, its mock (USE_REAL_API=false) and typed errors."""

from .api import PF360Api
from .client import PF360Client
from .errors import (
    PF360BadRequest,
    PF360Conflict,
    PF360ConnectionError,
    PF360Error,
    PF360Forbidden,
    PF360MalformedResponse,
    PF360NotFound,
    PF360RateLimited,
    PF360RequestExpired,
    PF360ServerError,
    PF360Timeout,
    PF360Unauthorized,
)
from .factory import make_client, reset_shared_mock_store, shared_mock_store
from .formats import created_at
from .mock import MockPF360Client, MockStore
from .models import AvailableDates, BusinessHours, NoteResult, Project, ScheduleResult, WorkDay
from .transform import extract_projects
from .urls import project_url

__all__ = [
    "AvailableDates",
    "BusinessHours",
    "MockPF360Client",
    "MockStore",
    "NoteResult",
    "PF360Api",
    "PF360BadRequest",
    "PF360Client",
    "PF360Conflict",
    "PF360ConnectionError",
    "PF360Error",
    "PF360Forbidden",
    "PF360MalformedResponse",
    "PF360NotFound",
    "PF360RateLimited",
    "PF360RequestExpired",
    "PF360ServerError",
    "PF360Timeout",
    "PF360Unauthorized",
    "Project",
    "ScheduleResult",
    "WorkDay",
    "created_at",
    "extract_projects",
    "make_client",
    "project_url",
    "reset_shared_mock_store",
    "shared_mock_store",
]
