"""Settlement throughput and balance-read cost on PostgreSQL.

Settles 100,000 due transactions with `loyalty.ledger.settle_due` and compares
the rate with a raw set-based UPDATE of 100,000 rows of a copy of the same
table, timed in the same run (the ceiling; goal: at least 25% of it). Then
times a balance read with 10 entries in the ledger and with 1,000,000.

    .venv/bin/python bench/settlement.py [--transactions 100000]
"""

from __future__ import annotations

import argparse
import time

from common import report, scratch_database, timed

SEED_SQL = """
INSERT INTO loyalty_transaction (public_id, kind, status, cause, cause_ref, memo, memo_kind,
                                 memo_params, reason, created_at, settles_at)
SELECT gen_random_uuid(), %(kind)s, %(status)s, 'referral', '', 'Bench reward', 'note', '{}',
       '', now(), now() - interval '1 minute'
  FROM generate_series(1, %(count)s);
"""

ENTRIES_SQL = """
INSERT INTO loyalty_entry (transaction_id, account_id, amount)
SELECT t.id, %(first_account)s + t.id %% %(customers)s, 10
  FROM loyalty_transaction t
 WHERE t.memo = %(memo)s
UNION ALL
SELECT t.id, %(system)s, -10 FROM loyalty_transaction t WHERE t.memo = %(memo)s;
"""

PENDING_BALANCES_SQL = """
UPDATE loyalty_account a SET pending_balance = s.total
  FROM (SELECT e.account_id, SUM(e.amount) AS total FROM loyalty_entry e
          JOIN loyalty_transaction t ON t.id = e.transaction_id AND t.status = 'pending'
         GROUP BY e.account_id) s
 WHERE a.id = s.account_id AND a.customer_id IS NOT NULL;
"""


def make_customers(count: int) -> list:
    from customers.models import Customer, User
    from customers.services import referral_code_generate
    from loyalty.models import Account

    users = User.objects.bulk_create(
        User(email=f"bench{i}@example.com", password="!") for i in range(count)
    )
    customers = Customer.objects.bulk_create(
        Customer(user=user, referral_code=f"{referral_code_generate()[:4]}{i:04d}"[:8])
        for i, user in enumerate(users)
    )
    Account.objects.bulk_create(Account(customer=customer) for customer in customers)
    return customers


def seed_due(count: int, customers: int, memo: str = "Bench reward") -> None:
    from django.db import connection

    from loyalty.ledger import system_account
    from loyalty.models import Account

    system = system_account("referral_expense").pk
    # The bench's customer accounts were bulk-created, so their ids are consecutive.
    first_account = Account.objects.filter(customer__isnull=False).order_by("id").first().pk
    with connection.cursor() as cursor:
        cursor.execute(SEED_SQL.replace("'Bench reward'", "%(memo)s"),
                       {"kind": "referral_reward", "status": "pending", "count": count,
                        "memo": memo})  # fmt: skip
        cursor.execute(
            ENTRIES_SQL,
            {
                "customers": customers,
                "system": system,
                "memo": memo,
                "first_account": first_account,
            },
        )
        cursor.execute(PENDING_BALANCES_SQL)
        cursor.execute("ANALYZE")


def raw_update_seconds(count: int) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_raw (LIKE loyalty_transaction INCLUDING ALL)")
        seed = {"kind": "referral_reward", "status": "pending", "count": count}
        cursor.execute(SEED_SQL.replace("loyalty_transaction", "bench_raw"), seed)
        cursor.execute("ANALYZE bench_raw")
        start = time.perf_counter()
        cursor.execute(
            "UPDATE bench_raw SET status = 'posted', posted_at = now() "
            "WHERE status = 'pending' AND settles_at <= now()"
        )
        elapsed = time.perf_counter() - start
        assert cursor.rowcount == count
        cursor.execute("DROP TABLE bench_raw")
    return elapsed


def balance_read_microseconds(customer, reads: int = 2000) -> float:
    from loyalty.selectors import balance

    balance(customer=customer)
    start = time.perf_counter()
    for _ in range(reads):
        balance(customer=customer)
    return (time.perf_counter() - start) / reads * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--big-ledger", type=int, default=1_000_000)
    args = parser.parse_args()

    with scratch_database("settlement"):
        from loyalty import ledger
        from loyalty.audit import ledger_audit

        customers = make_customers(args.customers)
        seed_due(args.transactions, args.customers)
        times: dict[str, float] = {}
        with timed(times, "settle"):
            settled = ledger.settle_due()
        assert settled == args.transactions, settled
        assert ledger_audit().clean
        raw = raw_update_seconds(args.transactions)

        reader = customers[0]
        for _ in range(5):
            ledger.points_award(customer=reader, points=1, kind="earn", memo="Bench")
        small = balance_read_microseconds(reader)
        seed_due(args.big_ledger // 2, args.customers, memo="Big ledger")
        big = balance_read_microseconds(reader)

    settle_rate = args.transactions / times["settle"]
    raw_rate = args.transactions / raw
    figures = {
        "transactions": args.transactions,
        "settle_per_second": round(settle_rate),
        "raw_update_per_second": round(raw_rate),
        "ratio_to_raw": round(settle_rate / raw_rate, 3),
        "goal_ratio": 0.25,
        "balance_read_us_small_ledger": round(small, 1),
        "balance_read_us_big_ledger": round(big, 1),
        "big_ledger_entries": args.big_ledger + args.transactions * 2,
    }
    report(
        "Settlement on PostgreSQL",
        [
            ("transactions settled", f"{args.transactions:,}"),
            ("settle_due rate", f"{settle_rate:,.0f} /s ({times['settle']:.2f} s)"),
            ("raw UPDATE rate (ceiling)", f"{raw_rate:,.0f} /s ({raw:.2f} s)"),
            ("ratio (goal >= 0.25)", f"{settle_rate / raw_rate:.3f}"),
            ("balance read, 10 entries", f"{small:.1f} us"),
            (f"balance read, {figures['big_ledger_entries']:,} entries", f"{big:.1f} us"),
        ],
        figures,
    )


if __name__ == "__main__":
    main()
