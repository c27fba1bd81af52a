"""Sustained mixed load on the partner API: no errors, no memory growth, ledger balanced.

gunicorn (4 workers) on a scratch PostgreSQL database with production settings; wrk on
loopback (16 connections) for `--seconds` (default 300) with a mix of reads and writes:
60% customer reads, 15% transaction history reads, 15% conversions with fresh
Idempotency-Keys, 10% point awards. Worker memory is read after a warm-up and at the end;
`audit_ledger` runs afterwards. Prints a table, then one JSON line.

    .venv/bin/python bench/partner_load.py [--seconds 300]
"""

from __future__ import annotations

import argparse

from common import report, scratch_database
from partner_api import lua_list, seed
from server import LUA_THREAD_ID, gunicorn, worker_rss_kib, wrk

MIXED_LUA = (
    LUA_THREAD_ID
    + """
local customers = %(customers)s
local n = 0
local auth = "Api-Key %(key)s"
function request()
  n = n + 1
  local customer = customers[(n %% #customers) + 1]
  local pick = n %% 20
  if pick < 12 then
    return wrk.format("GET", "/api/v1/customers/" .. customer .. "/", {["Authorization"] = auth})
  elseif pick < 15 then
    return wrk.format("GET", "/api/v1/customers/" .. customer .. "/transactions/",
      {["Authorization"] = auth})
  end
  local key = "load-" .. tid .. "-" .. n
  local headers = {["Authorization"] = auth, ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key}
  if pick < 18 then
    local body = string.format(
      '{"customer": "%%s", "order_id": "%%s", "amount": "12.50", "currency": "EUR"}',
      customer, key)
    return wrk.format("POST", "/api/v1/conversions/", headers, body)
  end
  return wrk.format("POST", "/api/v1/customers/" .. customer .. "/points/", headers,
    '{"points": 5, "reason": "Load test"}')
end
"""
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--history", type=int, default=10, help="earlier purchases per customer")
    args = parser.parse_args()

    with scratch_database("partner_load"):
        key, customers, _partner = seed(args.customers, args.history)
        script = MIXED_LUA % {"customers": lua_list([str(c.public_id) for c in customers]),
                              "key": key}  # fmt: skip
        with gunicorn(workers=4) as (url, master):
            wrk(url, script=script, seconds=10)  # warm-up: imports, caches, connections
            # Five equal rounds: memory read after each shows a trend, not just two points.
            rss, rounds = [worker_rss_kib(master)], []
            for _round in range(5):
                rounds.append(wrk(url, script=script, seconds=args.seconds // 5))
                rss.append(worker_rss_kib(master))
        from loyalty.audit import ledger_audit

        audit = ledger_audit()

    requests = sum(load.requests for load in rounds)
    errors = sum(load.errors for load in rounds)
    totals = [sum(sizes) // 1024 for sizes in rss]
    figures = {
        "seconds": args.seconds,
        "requests": requests,
        "requests_per_second": round(requests / args.seconds, 1),
        "p50_ms_by_round": [load.p50_ms for load in rounds],
        "p99_ms_by_round": [load.p99_ms for load in rounds],
        "errors": errors,
        "workers_rss_mib_after_each_round": totals,
        "audit_clean": audit.clean,
    }
    rows = [
        ("duration", f"{args.seconds} s in 5 rounds, 16 connections, 4 gunicorn workers"),
        ("requests", f"{requests:,} ({requests / args.seconds:.0f}/s)"),
        ("p99 by round (ms)", ", ".join(f"{load.p99_ms:.0f}" for load in rounds)),
        ("non-2xx or socket errors", str(errors)),
        ("4 workers' memory (MiB): start, then each round", " -> ".join(map(str, totals))),
        ("audit_ledger", "clean" if audit.clean else "DIFFERENCES"),
    ]
    report("Partner API under sustained mixed load", rows, figures)


if __name__ == "__main__":
    main()
