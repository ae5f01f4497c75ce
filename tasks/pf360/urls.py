"""Customer-portal links to a project (seed API item 8, Challenge 3).

Unlike the seed's sketch, an unknown environment is an error rather than a silent dev
link, and the client name is checked because it becomes part of a host name.
"""

from __future__ import annotations

import re
from urllib.parse import quote

PORTAL_DOMAINS: dict[str, str] = {
    "dev": "dev",
    "qa": "qa",
    "staging": "staging",
    "prod": "apps",
}

_HOST_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def project_url(client_name: str, environment: str, project_id: str | int) -> str:
    """https://{client_name}.cx-portal.{dev|qa|staging|apps}.projectsforce.com/details/{id}."""
    env = environment.strip().lower()
    if env not in PORTAL_DOMAINS:
        raise ValueError(
            f"unknown environment {environment!r}; allowed: {', '.join(PORTAL_DOMAINS)}"
        )
    name = client_name.strip().lower()
    if not _HOST_LABEL.match(name):
        raise ValueError(f"client name {client_name!r} cannot be used in a host name")
    pid = str(project_id).strip()
    if not pid:
        raise ValueError("project_id is empty")
    return (
        f"https://{name}.cx-portal.{PORTAL_DOMAINS[env]}.projectsforce.com"
        f"/details/{quote(pid, safe='')}"
    )
