"""`make load`'s users are spread across tenants before a second customer of any is used."""

from __future__ import annotations

from tests.load.customers import across_tenants


def test_the_first_users_are_one_customer_of_each_tenant() -> None:
    customers = [  # as seed.add_load_data makes them: tenant by tenant
        {"customer_id": f"L{t:02d}{c:03d}", "client_id": f"load-co-{t:02d}"}
        for t in range(1, 11)
        for c in range(1, 13)
    ]
    ordered = across_tenants(customers)
    assert len({c["client_id"] for c in ordered[:10]}) == 10
    assert [c["customer_id"] for c in ordered[:2]] == ["L01001", "L02001"]
    assert sorted(ordered, key=lambda c: c["customer_id"]) == customers
