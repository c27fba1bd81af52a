"""The widget's panel under load, beside the bare view in the same run.

gunicorn (4 workers) on a scratch PostgreSQL database with production settings; wrk on
loopback with 16 connections. The panel is one POST per page view: a signed-in customer's
(token checked, points, tier, referral link, affordable rewards, latest activity) and a
visitor's (the program's offer), each from an allowed origin. Floor: the signed-in panel
at least 0.50 of the bare view's rate with p99 < 50 ms. The phases run in turn for several
rounds and each ratio is the median of the rounds' ratios. Prints a table, then one JSON
line of figures.

    .venv/bin/python bench/widget.py [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json

from common import report, scratch_database
from partner_api import lua_list, seed
from server import gunicorn, load_rounds

SHOP = "https://shop.example.com"

PANEL_LUA = """
local bodies = %(bodies)s
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain"
wrk.headers["Origin"] = "%(origin)s"
function request()
  n = n + 1
  return wrk.format(nil, "/widget/v1/panel/", nil, bodies[(n %% #bodies) + 1])
end
"""

BARE_LUA = """
local paths = %(paths)s
local n = 0
function request()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
"""


def widget_partner(partner) -> str:
    """The API's bench partner, its widget allowed on the shop; its publishable key."""
    from partners.models import Partner

    Partner.objects.filter(pk=partner.pk).update(widget_origins=SHOP)
    partner.refresh_from_db()
    return partner.publishable_key


def panel_bodies(partner, key: str, external_ids: list[str]) -> list[str]:
    """One panel request body per customer, each with a fresh token (valid ten minutes:
    made just before the load starts)."""
    from partners.widget.tokens import customer_token_sign

    return [
        json.dumps(
            {
                "key": key,
                "token": customer_token_sign(partner=partner, external_id=external_id),
                "lang": "en",
            }
        )
        for external_id in external_ids
    ]


def queries_per_panel(body: str) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()

    def ask():
        return client.post("/widget/v1/panel/", body, content_type="text/plain", HTTP_ORIGIN=SHOP)

    assert ask().status_code == 200  # places the customer's tier, caches the key
    with CaptureQueriesContext(connection) as queries:
        response = ask()
    assert response.status_code == 200 and response.json()["customer"], response.content
    return len(queries)


def place_tiers(customers: list) -> None:
    """Place each customer's tier as their last purchase left it to be placed again: a
    shop's customers have been placed by earlier page views (placements last an hour)."""
    from loyalty.tiers import customer_tier_placed

    for customer in customers:
        customer_tier_placed(customer=customer)


def rewards() -> None:
    from loyalty.models import Reward

    for cost in (100, 250, 500, 1000, 5000):
        Reward.objects.create(name=f"Bench reward {cost}", kind="free_product", points_cost=cost)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--history", type=int, default=10, help="earlier purchases per customer")
    args = parser.parse_args()

    with scratch_database("widget"):
        _api_key, customers, partner = seed(args.customers, args.history)
        rewards()
        place_tiers(customers)
        key = widget_partner(partner)
        external_ids = [f"ext-{number}" for number in range(args.customers)]
        queries = queries_per_panel(panel_bodies(partner, key, external_ids[:1])[0])

        with gunicorn(workers=4) as (url, master):
            signed_in = lua_list(panel_bodies(partner, key, external_ids))
            visitor = lua_list([json.dumps({"key": key, "lang": "en"})])
            scripts = {
                "bare": BARE_LUA % {"paths": lua_list([f"/bench/bare/{c.pk}/" for c in customers])},
                "panel": PANEL_LUA % {"bodies": signed_in, "origin": SHOP},
                "visitor": PANEL_LUA % {"bodies": visitor, "origin": SHOP},
            }
            rounds = load_rounds(url, master, scripts, rounds=args.rounds, seconds=args.seconds)

    median, ratio = rounds.median, rounds.ratio
    ratios_by_round = rounds.ratios_each_round("panel", "visitor")

    figures = {
        "rounds": args.rounds,
        "seconds_per_phase": args.seconds,
        "bare_rps": median("bare", "requests_per_second"),
        "bare_p99_ms": median("bare", "p99_ms"),
        "panel_rps": median("panel", "requests_per_second"),
        "panel_p50_ms": median("panel", "p50_ms"),
        "panel_p99_ms": median("panel", "p99_ms"),
        "panel_ratio": ratio("panel"),
        "visitor_rps": median("visitor", "requests_per_second"),
        "visitor_p99_ms": median("visitor", "p99_ms"),
        "visitor_ratio": ratio("visitor"),
        "ratios_by_round": ratios_by_round,
        "errors": rounds.errors(),
        "queries_per_signed_in_panel": queries,
        "cpu_ms_per_request": {name: rounds.cpu_ms(name) for name in scripts},
    }
    f, cpu = figures, figures["cpu_ms_per_request"]
    rows = [
        ("bare pk view (ceiling)", f"{f['bare_rps']:.0f} req/s, p99 {f['bare_p99_ms']:.1f} ms"),
        ("panel, signed in", f"{f['panel_rps']:.0f} req/s, p50 {f['panel_p50_ms']:.1f} ms, "
         f"p99 {f['panel_p99_ms']:.1f} ms, ratio {f['panel_ratio']} (floor 0.50, p99 < 50)"),
        ("panel, visitor", f"{f['visitor_rps']:.0f} req/s, p99 {f['visitor_p99_ms']:.1f} ms, "
         f"ratio {f['visitor_ratio']}"),
        ("ratios by round (signed in, visitor)", ", ".join(
            f"{by['panel']:.3f} {by['visitor']:.3f}" for by in ratios_by_round)),
        ("non-2xx or socket errors", str(f["errors"])),
        ("queries per signed-in panel", str(queries)),
        *((f"CPU per request, {name}",
           f"app {part['app']:.2f} ms, PostgreSQL {part['database']:.2f} ms")
          for name, part in cpu.items()),
    ]  # fmt: skip
    report(
        f"Widget panel: gunicorn 4 workers, wrk 16 connections, medians of {args.rounds} rounds",
        rows,
        figures,
    )


if __name__ == "__main__":
    main()
