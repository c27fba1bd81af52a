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
    args = parser.parse_args()

    with scratch_database("partner_load"):
        key, customers, _partner = seed(args.customers)
        script = MIXED_LUA % {"customers": lua_list([str(c.public_id) for c in customers]),
                              "key": key}  # fmt: skip
        with gunicorn(workers=4) as (url, master):
            wrk(url, script=script, seconds=10)  # warm-up: imports, caches, connections
            rss_start = worker_rss_kib(master)
            load = wrk(url, script=script, seconds=args.seconds)
            rss_end = worker_rss_kib(master)
        from loyalty.audit import ledger_audit

        audit = ledger_audit()

    growth = max(end - start for start, end in zip(rss_start, rss_end, strict=True))
    figures = {
        "seconds": args.seconds,
        "requests": load.requests,
        "requests_per_second": load.requests_per_second,
        "p50_ms": load.p50_ms,
        "p99_ms": load.p99_ms,
        "errors": load.errors,
        "worker_rss_start_kib": rss_start,
        "worker_rss_end_kib": rss_end,
        "max_worker_growth_kib": growth,
        "audit_clean": audit.clean,
    }
    rows = [
        ("duration", f"{args.seconds} s, 16 connections, 4 gunicorn workers"),
        ("requests", f"{load.requests:,} ({load.requests_per_second:.0f}/s)"),
        ("latency", f"p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms"),
        ("non-2xx or socket errors", str(load.errors)),
        ("worker memory (KiB)", f"{rss_start} -> {rss_end} (max growth {growth})"),
        ("audit_ledger", "clean" if audit.clean else "DIFFERENCES"),
    ]
    report("Partner API under sustained mixed load", rows, figures)


if __name__ == "__main__":
    main()
