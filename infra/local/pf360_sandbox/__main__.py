"""`python -m infra.local.pf360_sandbox`: run the sandbox in the foreground for the demo."""

from __future__ import annotations

import argparse

from infra.local import ports

from .seed import CLIENTS, CUSTOMERS, PROJECTS
from .server import SandboxServer


def _banner(base_url: str) -> str:
    lines = [f"PF360 sandbox at {base_url}  (control API: {base_url}/__sandbox/health)", ""]
    for customer in CUSTOMERS.values():
        client = CLIENTS[customer.client_id]
        projects = ", ".join(
            f"{p.project_id} ({p.status})"
            for p in PROJECTS.values()
            if p.customer_id == customer.customer_id
        )
        lines.append(
            f"  {customer.customer_id}  {customer.name:<16} client={client.client_id}"
            f" tz={client.timezone}  projects: {projects}"
        )
    lines += [
        "",
        "Mint a token (customer, then per-client service token):",
        '  .venv/bin/python -c "from infra.local.dev_tokens import mint_customer_token;'
        " print(mint_customer_token('CUST001', 'acme-corp'))\"",
        '  .venv/bin/python -c "from infra.local.dev_tokens import mint_service_token;'
        " print(mint_service_token('acme-corp'))\"",
        "Send it as 'authorization: Bearer <token>'. Ctrl-C stops the sandbox.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse --host/--port, print where to connect, serve until interrupted."""
    parser = argparse.ArgumentParser(description="Run the PF360 sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8360)
    parser.add_argument("--quiet", action="store_true", help="no log line per request")
    args = parser.parse_args(argv)
    ports.check_free(ports.sandbox(args.port, args.host))
    server = SandboxServer(args.host, args.port, quiet=args.quiet)
    print(_banner(server.base_url), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
