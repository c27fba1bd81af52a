"""Partner API under load: the customer read and the conversion post beside a bare view.

gunicorn (4 workers) on a scratch PostgreSQL database with production settings; wrk on
loopback with 16 connections. Prints a table, then one JSON line of figures and ratios.
Goals (issue 5): read >= 60% of the bare view's rate with p99 < 50 ms; conversion >= 25%
with p99 < 150 ms; queries per request constant as a customer's history grows. Processor
time per request (gunicorn workers, PostgreSQL) is printed for each phase: with both cores
busy, the ratios are the inverse ratios of these costs.

    .venv/bin/python bench/partner_api.py [--seconds 15]
"""

from __future__ import annotations

import argparse
import json

from common import report, scratch_database
from server import LUA_THREAD_ID, cpu_seconds, gunicorn, wrk

CONVERSIONS_LUA = (
    LUA_THREAD_ID
    + """
local customers = %(customers)s
local n = 0
function request()
  n = n + 1
  local key = "bench-" .. tid .. "-" .. n
  local body = string.format(
    '{"customer": "%%s", "order_id": "%%s", "amount": "25.00", "currency": "EUR"}',
    customers[(n %% #customers) + 1], key)
  return wrk.format("POST", "/api/v1/conversions/", {
    ["Authorization"] = "Api-Key %(key)s",
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key,
  }, body)
end
"""
)

ROTATING_GET_LUA = """
local paths = %(paths)s
local n = 0
wrk.headers["Authorization"] = "Api-Key %(key)s"
function request()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
"""


def lua_list(values: list[str]) -> str:
    return "{" + ", ".join(json.dumps(value) for value in values) + "}"


def seed(customers: int) -> tuple[str, list, object]:
    """Customers as the API creates them: linked, with their tier placed (the creation's
    answer places it), and table statistics gathered as a live database has them."""
    from django.db import connection

    from loyalty.tiers import customer_tier_placed
    from partners.services import partner_create, partner_customer_upsert

    partner, key = partner_create(name="Bench shop")
    linked = [
        partner_customer_upsert(
            partner=partner,
            email=f"bench{number}@example.com",
            external_id=f"ext-{number}",
            first_name="Bench",
        )[0]
        for number in range(customers)
    ]
    for customer in linked:
        customer_tier_placed(customer=customer)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return key, linked, partner


def queries_per_read(key: str, customer) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    path = f"/api/v1/customers/{customer.public_id}/"
    client.get(path)  # the first read after a posting places the customer's tier again
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def grow_history(customer, transactions: int) -> None:
    from loyalty.ledger import points_award

    for number in range(transactions):
        points_award(customer=customer, points=1, kind="adjust", memo=f"Bench {number}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--customers", type=int, default=300)
    args = parser.parse_args()

    with scratch_database("partner_api"):
        key, customers, _partner = seed(args.customers)
        ids = [str(customer.public_id) for customer in customers]
        queries_small = queries_per_read(key, customers[0])
        grow_history(customers[0], 1000)
        queries_big = queries_per_read(key, customers[0])

        with gunicorn(workers=4) as (url, master):
            scripts = {
                "bare": ROTATING_GET_LUA
                % {"paths": lua_list([f"/bench/bare/{c.pk}/" for c in customers]), "key": key},
                "read": ROTATING_GET_LUA
                % {"paths": lua_list([f"/api/v1/customers/{i}/" for i in ids]), "key": key},
                "conversion": CONVERSIONS_LUA % {"customers": lua_list(ids), "key": key},
            }
            loads, cpu_ms = {}, {}
            for name, script in scripts.items():
                before = cpu_seconds(master)
                loads[name] = wrk(url, script=script, seconds=args.seconds)
                after = cpu_seconds(master)
                cpu_ms[name] = {
                    part: round((after[part] - before[part]) * 1000 / loads[name].requests, 3)
                    for part in after
                }
        bare, read, convert = loads["bare"], loads["read"], loads["conversion"]

        from django.core.management import call_command

        call_command("audit_ledger", verbosity=0)

    figures = {
        "bare_rps": bare.requests_per_second,
        "read_rps": read.requests_per_second,
        "read_p50_ms": read.p50_ms,
        "read_p99_ms": read.p99_ms,
        "read_ratio": round(read.requests_per_second / bare.requests_per_second, 3),
        "conversion_rps": convert.requests_per_second,
        "conversion_p50_ms": convert.p50_ms,
        "conversion_p99_ms": convert.p99_ms,
        "conversion_ratio": round(convert.requests_per_second / bare.requests_per_second, 3),
        "errors": bare.errors + read.errors + convert.errors,
        "queries_per_read_small_history": queries_small,
        "queries_per_read_1000_transactions": queries_big,
        "cpu_ms_per_request": cpu_ms,
    }
    rows = [
        ("bare pk view (ceiling)", f"{bare.requests_per_second:.0f} req/s, p99 {bare.p99_ms:.1f}"),
        ("GET customer", f"{read.requests_per_second:.0f} req/s, p50 {read.p50_ms:.1f} ms, "
         f"p99 {read.p99_ms:.1f} ms, ratio {figures['read_ratio']} (goal 0.60, p99 < 50)"),
        ("POST conversion", f"{convert.requests_per_second:.0f} req/s, p50 {convert.p50_ms:.1f} "
         f"ms, p99 {convert.p99_ms:.1f} ms, ratio {figures['conversion_ratio']} "
         "(goal 0.25, p99 < 150)"),
        ("non-2xx or socket errors", str(figures["errors"])),
        ("queries per read (1 vs 1000 transactions)", f"{queries_small} vs {queries_big}"),
        *((f"CPU per request, {name}",
           f"app {cpu['app']:.2f} ms, PostgreSQL {cpu['database']:.2f} ms")
          for name, cpu in cpu_ms.items()),
    ]  # fmt: skip
    report("Partner API: gunicorn 4 workers, wrk 16 connections", rows, figures)


if __name__ == "__main__":
    main()
