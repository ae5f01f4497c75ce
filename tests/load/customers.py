"""Which load customer each locust user signs in as."""

from __future__ import annotations


def across_tenants(customers: list[dict[str, str]]) -> list[dict[str, str]]:
    """Round-robin across tenants (the first customer of every tenant, then the second...),
    so that 10 users are 10 tenants, not 10 customers of one tenant contending for its
    slots. Load customer ids are `LTTCCC` (tenant TT, customer CCC; seed.add_load_data)."""
    return sorted(customers, key=lambda c: (c["customer_id"][3:], c["customer_id"][1:3]))
