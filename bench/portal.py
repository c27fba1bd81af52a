"""The customer portal under load: every page of its navigation beside a bare view.

gunicorn (4 workers) on a scratch PostgreSQL database with production settings (static
files collected, as a deployment has them); the demo data plus one demo customer whose
history is grown to a long one; wrk on loopback with 16 connections, carrying the session
cookie of a real login through the login form. Each page is a phase; the phases run in
turn for several rounds, and each page's ratio to the bare view is the median of its
rounds' ratios (the machine is shared, so only figures of one run are compared).
Processor time per request (gunicorn workers, and the PostgreSQL processes serving the
bench's database, which other helpers' databases on the same server do not blur) is
printed for each page.
Queries per page are counted in-process for the same customer with a short history and
with a long one; they must be equal. Floors: logged-in pages >= 0.25 of the bare view,
public pages >= 0.40, p99 < 100 ms, no errors.

    .venv/bin/python bench/portal.py [--seconds 5] [--rounds 3] [--history 1500]
"""

from __future__ import annotations

import argparse
import re
from http.cookiejar import CookieJar
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, build_opener

from common import report, scratch_database
from partner_api import grow_history, lua_list
from server import gunicorn, load_rounds

LOGGED_IN_FLOOR = 0.25
PUBLIC_FLOOR = 0.40
P99_CEILING_MS = 100.0
SHORT_HISTORY = 10

# The header's navigation, the rewards section's own navigation, and the bell.
LOGGED_IN_PAGES = {
    "dashboard": "/me/dashboard/",
    "rewards": "/me/rewards/",
    "history": "/me/rewards/history/",
    "catalog": "/me/rewards/catalog/",
    "vouchers": "/me/rewards/vouchers/",
    "gift": "/me/rewards/gift/",
    "invite": "/me/invite/",
    "qr_code": "/me/invite/qr.png",
    "friends": "/me/friends/",
    "profile": "/me/profile/",
    "notices": "/me/notices/",
    "my_reviews": "/reviews/mine/",
}
PUBLIC_PAGES = {"home": "/", "reviews": "/reviews/"}

PAGE_LUA = """
wrk.headers["Cookie"] = "%(cookie)s"
wrk.headers["Accept-Encoding"] = "gzip"
wrk.path = "%(path)s"
"""

BARE_LUA = """
local paths = %(paths)s
local n = 0
function request()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
"""


def seed():
    """The demo data and the static files a deployment collects. Returns the demo customer
    Anna (she has points, a voucher, friends, notices and a contact person: every page has
    something to show) and her login."""
    from django.core.management import call_command

    from customers.demo import DEMO_PASSWORD
    from customers.models import Customer

    call_command("seed_demo", yes=True, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    anna = Customer.objects.select_related("user").get(user__email="anna@example.com")
    return anna, (anna.user.email, DEMO_PASSWORD)


def grow_history_to(customer, entries: int) -> None:
    """Ledger entries added until the customer's history has `entries`; table statistics
    gathered again, as a live database has them."""
    from django.db import connection

    grow_history(customer, max(entries - history_length(customer), 0))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def history_length(customer) -> int:
    from loyalty.selectors import customer_history

    return customer_history(customer=customer).count()


def queries_per_page(customer) -> dict[str, int]:
    """Queries of each page's second request (the first may fill per-customer caches), as
    the load asks for it: the customer's pages signed in, the public ones by a visitor."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    customer_client, visitor = Client(), Client()
    customer_client.force_login(customer.user)
    counts = {}
    for name, path in {**LOGGED_IN_PAGES, **PUBLIC_PAGES}.items():
        client = visitor if name in PUBLIC_PAGES else customer_client
        client.get(path)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        counts[name] = len(queries)
    return counts


def login_cookie(url: str, email: str, password: str) -> str:
    """Log in through the real login form; the Cookie header a browser would then send."""
    jar = CookieJar()
    browser = build_opener(HTTPCookieProcessor(jar))
    page = browser.open(f"{url}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = {"login": email, "password": password, "csrfmiddlewaretoken": token}
    with browser.open(f"{url}/accounts/login/", data=urlencode(form).encode()) as answer:
        assert answer.url.endswith("/me/dashboard/"), answer.url
    cookies = {cookie.name: cookie.value for cookie in jar}
    assert "sessionid" in cookies, cookies
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--history", type=int, default=1500, help="ledger entries of the customer")
    args = parser.parse_args()

    with scratch_database("portal") as database:
        from django.core.cache import cache

        from customers.models import Customer

        cache.clear()  # per-customer fragments of an earlier run's database of the same ids
        anna, (email, password) = seed()
        grow_history_to(anna, SHORT_HISTORY)
        queries_short = queries_per_page(anna)
        grow_history_to(anna, args.history)
        queries_long = queries_per_page(anna)
        entries = history_length(anna)
        customers = list(Customer.objects.values_list("pk", flat=True))

        with gunicorn(workers=4) as (url, master):
            cookie = login_cookie(url, email, password)
            scripts = {
                "bare": BARE_LUA % {"paths": lua_list(f"/bench/bare/{pk}/" for pk in customers)}
            }
            for name, path in LOGGED_IN_PAGES.items():
                scripts[name] = PAGE_LUA % {"cookie": cookie, "path": path}
            for name, path in PUBLIC_PAGES.items():
                scripts[name] = PAGE_LUA % {"cookie": "", "path": path}
            rounds = load_rounds(
                url, master, scripts, rounds=args.rounds, seconds=args.seconds, database=database
            )

    median, ratio = rounds.median, rounds.ratio

    pages = {}
    for name in (*LOGGED_IN_PAGES, *PUBLIC_PAGES):
        floor = PUBLIC_FLOOR if name in PUBLIC_PAGES else LOGGED_IN_FLOOR
        page = {
            "rps": median(name, "requests_per_second"),
            "p50_ms": median(name, "p50_ms"),
            "p99_ms": median(name, "p99_ms"),
            "ratio": ratio(name),
            "floor": floor,
            "errors": rounds.errors(name),
            "queries_short_history": queries_short[name],
            "queries_long_history": queries_long[name],
            "cpu_ms_per_request": rounds.cpu_ms(name),
        }
        page["passes"] = (
            page["ratio"] >= floor
            and page["p99_ms"] < P99_CEILING_MS
            and page["errors"] == 0
            and page["queries_short_history"] == page["queries_long_history"]
        )
        pages[name] = page
    figures = {
        "rounds": args.rounds,
        "seconds_per_phase": args.seconds,
        "history_entries": [SHORT_HISTORY, entries],
        "bare_rps": median("bare", "requests_per_second"),
        "bare_p99_ms": median("bare", "p99_ms"),
        "bare_errors": rounds.errors("bare"),
        "bare_cpu_ms_per_request": rounds.cpu_ms("bare"),
        "pages": pages,
        "all_pass": all(page["passes"] for page in pages.values()),
    }
    rows = [
        ("bare pk view (ceiling)",
         f"{figures['bare_rps']:.0f} req/s, p99 {figures['bare_p99_ms']:.1f} ms, "
         f"errors {figures['bare_errors']}, "
         f"CPU app {figures['bare_cpu_ms_per_request']['app']:.2f} ms, "
         f"PostgreSQL {figures['bare_cpu_ms_per_request']['database']:.2f} ms"),
        *((f"{name} ({'public' if name in PUBLIC_PAGES else 'logged in'})",
           f"{p['rps']:.0f} req/s, p50 {p['p50_ms']:.1f} ms, p99 {p['p99_ms']:.1f} ms, "
           f"ratio {p['ratio']} (floor {p['floor']}), errors {p['errors']}, "
           f"queries {p['queries_short_history']} vs {p['queries_long_history']}, "
           f"CPU app {p['cpu_ms_per_request']['app']:.2f} ms, "
           f"PostgreSQL {p['cpu_ms_per_request']['database']:.2f} ms"
           f"{'' if p['passes'] else '  FAILS'}")
          for name, p in pages.items()),
        ("all pages pass", str(figures["all_pass"])),
    ]  # fmt: skip
    report(
        f"Customer portal: gunicorn 4 workers, wrk 16 connections, medians of {args.rounds} "
        f"rounds; queries for {SHORT_HISTORY} vs {entries} ledger entries",
        rows,
        figures,
    )


if __name__ == "__main__":
    main()
