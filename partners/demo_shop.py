"""A tiny shop on its own origin that embeds the widget, as a partner's site would.

Its server signs customer tokens with the partner's widget secret (the signing a real
shop's backend does, docs/widget.md) and serves pages under a strict Content-Security-
Policy that allows only the Kindred origin beside its own. `make run` starts it on the
port after Kindred's; the browser tests start it too. Standard library and PyJWT only: it
stands for someone else's server, so it does not load Django.

    python -m partners.demo_shop --port 8001 --kindred http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import html
import os
import re
import threading
import time
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt

# The demo partner's widget credentials, documented like the demo API key (partners/demo.py).
DEMO_PUBLISHABLE_KEY = "pk_demo-shop-not-secret"
DEMO_WIDGET_SECRET = "wsec_demo-shop-widget-secret-not-secret"  # noqa: S105 - documented
DEMO_SUBJECT = "house-blend"
TOKEN_LIFETIME = 600
COOKIE = "shop_customer"

STYLE = """
body { font: 17px/1.5 Georgia, serif; margin: 0; background: #fffaf0; color: #222; }
header, main, footer { max-width: 44rem; margin: 0 auto; padding: 1rem; }
h1 { color: #7a2e00; }
/* Rules a shop might have that must not reach the widget (nor the widget's reach here). */
button { background: #7a2e00; color: #fff; border: 0; padding: .5rem 1rem; font: inherit; }
li, p { letter-spacing: .02em; }
label { display: block; margin-top: .5rem; }
input { font: inherit; padding: .3rem; }
"""

SCRIPT = """
document.addEventListener("click", function (event) {
  var action = event.target.getAttribute("data-shop");
  if (action === "spa-login") {
    var id = document.getElementById("customer-id").value;
    fetch("/token?customer=" + encodeURIComponent(id)).then(function (r) { return r.text(); })
      .then(function (token) { window.Kindred.identify(token); });
  } else if (action === "spa-logout") {
    window.Kindred.identify(null);
  }
});
"""


def customer_token(*, secret: str, audience: str, external_id: str) -> str:
    """What the shop's backend does for a signed-in customer."""
    claims = {"sub": external_id, "aud": audience, "exp": int(time.time()) + TOKEN_LIFETIME}
    return jwt.encode(claims, secret, algorithm="HS256")


def page(*, kindred: str, key: str, token: str, customer: str) -> str:
    escaped = html.escape
    signed_in = (
        f'<p>Signed in at the shop as <strong id="shop-customer">{escaped(customer)}</strong>.</p>'
        '<form method="post" action="/logout"><button type="submit">Log out</button></form>'
        if customer
        else '<form method="post" action="/login"><label for="customer-id">Your shop customer '
        'id</label><input id="customer-id" name="customer" autocomplete="off">'
        '<button type="submit">Log in</button> '
        '<button type="button" data-shop="spa-login">Log in without reloading</button></form>'
    )
    token_attribute = f' data-customer-token="{escaped(token)}"' if token else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo shop</title>
<link rel="stylesheet" href="/shop.css">
<script src="/shop.js" defer></script>
<script async src="{escaped(kindred)}/widget/v1.js"
  data-key="{escaped(key)}"{token_attribute}></script>
</head>
<body>
<header><p><strong>Kindred demo shop</strong>: a partner's site on another origin</p></header>
<main>
<h1>House blend, 250 g</h1>
<p>Chocolate, hazelnut and a little orange. Medium roast.</p>
{signed_in}
<p><button type="button" data-shop="spa-logout">Log out without reloading</button></p>
<div data-kindred-reviews="{DEMO_SUBJECT}" data-kindred-structured-data></div>
</main>
<footer><p>The rewards button in the corner is Kindred's widget.</p></footer>
</body>
</html>"""


def policy(kindred: str) -> str:
    """Strict: nothing inline, nothing evaluated, and Kindred the only other origin."""
    return (
        f"default-src 'self'; script-src 'self' {kindred}; connect-src 'self' {kindred}; "
        f"img-src 'self' {kindred}; style-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def handler_for(*, kindred: str, key: str, secret: str):
    class Shop(BaseHTTPRequestHandler):
        def log_message(self, format, *args):
            pass

        def _customer(self) -> str:
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
            return cookie[COOKIE].value if COOKIE in cookie else ""

        def _send(self, status: int, body: str, content_type: str, **headers: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Content-Security-Policy", policy(kindred))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urlsplit(self.path)
            if url.path == "/shop.css":
                return self._send(200, STYLE, "text/css")
            if url.path == "/shop.js":
                return self._send(200, SCRIPT, "text/javascript")
            if url.path == "/token":
                external_id = parse_qs(url.query).get("customer", [""])[0]
                token = customer_token(secret=secret, audience=kindred, external_id=external_id)
                return self._send(200, token, "text/plain", Cache_Control="no-store")
            if url.path != "/":
                return self._send(404, "Not found", "text/plain")
            customer = self._customer()
            token = (
                customer_token(secret=secret, audience=kindred, external_id=customer)
                if customer
                else ""
            )
            body = page(kindred=kindred, key=key, token=token, customer=customer)
            return self._send(200, body, "text/html; charset=utf-8", Cache_Control="no-store")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            cookie = f"{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
            if self.path == "/login" and form.get("customer", [""])[0].strip():
                # A shop's own session; the demo keeps the id in a cookie, cleaned for one.
                customer = re.sub(r"[^A-Za-z0-9_.-]", "", form["customer"][0])[:100]
                cookie = f"{COOKIE}={customer}; Path=/; HttpOnly; SameSite=Lax"
            self.send_response(303)
            self.send_header("Location", "/")
            self.send_header("Set-Cookie", cookie)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Shop


def serve(*, port: int, kindred: str, key: str, secret: str) -> ThreadingHTTPServer:
    """Start the shop in a thread (for the tests); `shutdown()` stops it."""
    handler = handler_for(kindred=kindred, key=key, secret=secret)
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_port = int(os.environ.get("PORT", "8000"))
    parser.add_argument("--port", type=int, default=default_port + 1)
    parser.add_argument(
        "--kindred", default=os.environ.get("SITE_URL", f"http://127.0.0.1:{default_port}")
    )
    parser.add_argument("--key", default=DEMO_PUBLISHABLE_KEY)
    parser.add_argument("--secret", default=DEMO_WIDGET_SECRET)
    args = parser.parse_args()
    kindred = args.kindred.rstrip("/")
    handler = handler_for(kindred=kindred, key=args.key, secret=args.secret)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    print(f"Demo shop with the Kindred widget on http://127.0.0.1:{args.port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
