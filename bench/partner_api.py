"""Partner API under load: the customer read and the conversion post beside a bare view.

gunicorn (4 workers) on a scratch PostgreSQL database with production settings; wrk on
loopback with 16 connections. Prints a table, then one JSON line of figures and ratios.
Floors: read >= 60% of the bare view's rate with p99 < 50 ms; conversion >= 18%
with p99 < 150 ms; queries per request constant as a customer's history grows. Processor
time per request (gunicorn workers, PostgreSQL) is printed for each phase: with both cores
busy, the ratios are the inverse ratios of these costs. The phases run in turn for
several rounds, and each ratio is the median of the rounds' ratios, so a slow spell of the
machine during one phase does not decide it. Two references run beside them, with no
authentication, throttling or idempotency: the same read as a bare DRF view, and one bare
ledger posting, measured in the same run against the same bare view.

    .venv/bin/python bench/partner_api.py [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json

from common import report, scratch_database
from server import LUA_THREAD_ID, gunicorn, load_rounds

CONVERSIONS_LUA = (
    LUA_THREAD_ID
    + """
local customers = %(customers)s
local n = 0
function request()
  n = n + 1
  local key = "bench-%(round)s-" .. tid .. "-" .. n
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

ROTATING_LUA = """
local paths = %(paths)s
local n = 0
wrk.headers["Authorization"] = "Api-Key %(key)s"
function request()
  n = n + 1
  return wrk.format("%(method)s", paths[(n %% #paths) + 1])
end
"""


def lua_list(values: list[str]) -> str:
    return "{" + ", ".join(json.dumps(value) for value in values) + "}"


def seed(customers: int, history: int) -> tuple[str, list, object]:
    """Customers as the API creates them, linked and with their tier placed (the creation's
    answer places it), each with `history` earlier purchases reported through the API, and
    table statistics gathered as a live database has them.

    A database that starts with empty ledger and idempotency tables plans its lookups (and
    the foreign-key checks of every insert) for empty tables: sequential scans, which each
    connection keeps while those tables grow under the load, so a purchase would cost more
    the longer the run lasted.
    """
    from django.db import connection
    from django.test import Client

    from loyalty.tiers import customer_tier_placed
    from partners.models import Partner
    from partners.services import partner_create, partner_customer_upsert

    partner, key = partner_create(name="Bench shop", kind=Partner.Kind.OWN)
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
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    for number in range(history * customers):
        order = f"history-{number}"
        response = client.post(
            "/api/v1/conversions/",
            {"customer": str(linked[number % customers].public_id), "order_id": order,
             "amount": "25.00", "currency": "EUR"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=order,
        )  # fmt: skip
        assert response.status_code == 201, response.content
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return key, linked, partner


def posting_customers(count: int) -> list:
    """Customers only the ledger-post reference credits: a posting leaves the tier placement
    to be placed again on the next read, which the read phase must not pay for."""
    from customers.services import user_create

    return [user_create(email=f"posting{number}@example.com") for number in range(count)]


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
    parser.add_argument("--seconds", type=int, default=10, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--history", type=int, default=10, help="earlier purchases per customer")
    args = parser.parse_args()

    with scratch_database("partner_api"):
        key, customers, _partner = seed(args.customers, args.history)
        credited = posting_customers(args.customers)
        ids = [str(customer.public_id) for customer in customers]
        queries_small = queries_per_read(key, customers[0])
        grow_history(customers[0], 1000)
        queries_big = queries_per_read(key, customers[0])

        with gunicorn(workers=4) as (url, master):

            def rotating(method: str, paths: list[str]):
                script = ROTATING_LUA % {"paths": lua_list(paths), "key": key, "method": method}
                return lambda _round: script

            customer_ids = lua_list(ids)
            # Each round's conversions carry fresh idempotency keys and order ids (a key
            # sent again would be answered as a replay).
            scripts = {
                "bare": rotating("GET", [f"/bench/bare/{c.pk}/" for c in customers]),
                "read": rotating("GET", [f"/api/v1/customers/{i}/" for i in ids]),
                "conversion": lambda round_: (
                    CONVERSIONS_LUA % {"customers": customer_ids, "key": key, "round": round_}
                ),
                "bare_drf": rotating("GET", [f"/bench/drf/{c.pk}/" for c in customers]),
                "ledger_post": rotating("POST", [f"/bench/ledger-post/{c.pk}/" for c in credited]),
            }
            rounds = load_rounds(url, master, scripts, rounds=args.rounds, seconds=args.seconds)

        from django.core.management import call_command

        from customers.models import Conversion

        call_command("audit_ledger", verbosity=0)
        # Every conversion answered was recorded (none was a replay); wrk does not count the
        # requests still open when a phase ends, so a few more may be.
        recorded = Conversion.objects.count()

    median, ratio = rounds.median, rounds.ratio
    ratios_by_round = rounds.ratios_each_round("read", "conversion")

    figures = {
        "rounds": args.rounds,
        "seconds_per_phase": args.seconds,
        "bare_rps": median("bare", "requests_per_second"),
        "bare_p99_ms": median("bare", "p99_ms"),
        "read_rps": median("read", "requests_per_second"),
        "read_p50_ms": median("read", "p50_ms"),
        "read_p99_ms": median("read", "p99_ms"),
        "read_ratio": ratio("read"),
        "conversion_rps": median("conversion", "requests_per_second"),
        "conversion_p50_ms": median("conversion", "p50_ms"),
        "conversion_p99_ms": median("conversion", "p99_ms"),
        "conversion_ratio": ratio("conversion"),
        "ratios_by_round": ratios_by_round,
        "bare_drf_rps": median("bare_drf", "requests_per_second"),
        "bare_drf_ratio": ratio("bare_drf"),
        "ledger_post_rps": median("ledger_post", "requests_per_second"),
        "ledger_post_ratio": ratio("ledger_post"),
        "errors": rounds.errors(),
        "conversions_answered": rounds.requests("conversion"),
        "conversions_recorded": recorded,
        "queries_per_read_small_history": queries_small,
        "queries_per_read_1000_transactions": queries_big,
        "cpu_ms_per_request": {name: rounds.cpu_ms(name) for name in scripts},
    }
    cpu, f = figures["cpu_ms_per_request"], figures
    rows = [
        ("bare pk view (ceiling)", f"{f['bare_rps']:.0f} req/s, p99 {f['bare_p99_ms']:.1f} ms"),
        ("GET customer", f"{f['read_rps']:.0f} req/s, p50 {f['read_p50_ms']:.1f} ms, "
         f"p99 {f['read_p99_ms']:.1f} ms, ratio {f['read_ratio']} (floor 0.60, p99 < 50)"),
        ("POST conversion", f"{f['conversion_rps']:.0f} req/s, p50 "
         f"{f['conversion_p50_ms']:.1f} ms, p99 {f['conversion_p99_ms']:.1f} ms, "
         f"ratio {f['conversion_ratio']} (floor 0.18, p99 < 150)"),
        ("references (bare DRF read, bare ledger post)",
         f"{f['bare_drf_rps']:.0f} req/s, ratio {f['bare_drf_ratio']}; "
         f"{f['ledger_post_rps']:.0f} req/s, ratio {f['ledger_post_ratio']}"),
        ("ratios by round (read, conversion)", ", ".join(
            f"{by['read']} {by['conversion']}" for by in f["ratios_by_round"])),
        ("non-2xx or socket errors", str(f["errors"])),
        ("conversions answered, recorded", f"{f['conversions_answered']}, {recorded}"),
        ("queries per read (1 vs 1000 transactions)", f"{queries_small} vs {queries_big}"),
        *((f"CPU per request, {name}",
           f"app {part['app']:.2f} ms, PostgreSQL {part['database']:.2f} ms")
          for name, part in cpu.items()),
    ]  # fmt: skip
    report(
        f"Partner API: gunicorn 4 workers, wrk 16 connections, medians of {args.rounds} rounds",
        rows,
        figures,
    )


if __name__ == "__main__":
    main()
