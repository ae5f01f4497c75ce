"""The PF360 sandbox: a loopback HTTP server keeping the PF360 contract with real state.

`SandboxServer` serves it; `SandboxControl` drives its control API; the seed constants
name the tenants, customers and projects that tests and the demo rely on.
"""

from __future__ import annotations

from .app import create_app
from .control import SandboxControl, SandboxControlError
from .seed import (
    CLIENTS,
    CUSTOMERS,
    PROJECTS,
    REQUEST_ID_TTL_SECONDS,
    SeedAppointment,
    SeedClient,
    SeedCustomer,
    SeedProject,
    Technician,
)
from .server import SandboxServer
from .state import SandboxState

__all__ = [
    "CLIENTS",
    "CUSTOMERS",
    "PROJECTS",
    "REQUEST_ID_TTL_SECONDS",
    "SandboxControl",
    "SandboxControlError",
    "SandboxServer",
    "SandboxState",
    "SeedAppointment",
    "SeedClient",
    "SeedCustomer",
    "SeedProject",
    "Technician",
    "create_app",
]
