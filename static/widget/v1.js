/* Kindred widget: a launcher and rewards panel, and reviews blocks, for a partner's pages.
 *
 * <script async src="https://KINDRED/widget/v1.js" data-key="pk_..."
 *         data-customer-token="(optional, signed by the shop's server)"></script>
 * <div data-kindred-reviews="SUBJECT-SLUG"></div>
 *
 * Everything lives in shadow roots (the shop's styles and ours never meet), is built
 * with DOM calls (no inline script or style, no eval: a strict CSP holds), talks only to
 * the script's own origin without cookies, and fails silently: if Kindred is down, the
 * shop's page is simply without the widget.
 */
(function () {
  "use strict";
  if (window.Kindred && window.Kindred.version) return;
  var tag = document.currentScript ||
    document.querySelector('script[src*="/widget/v1.js"][data-key]');
  if (!tag) return;
  var ORIGIN = new URL(tag.src, location.href).origin;
  var KEY = tag.getAttribute("data-key") || "";
  var REF_KEY = "kindred_ref";
  var token = tag.getAttribute("data-customer-token") || null;
  var data = null, host = null, root = null, launcher = null, dialog = null, body = null;
  var loading = 0;

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box}",
    ".k{font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2a2f}",
    ".launch{position:fixed;right:1rem;bottom:1rem;z-index:2147483000;font:600 16px/1.2 system-ui,sans-serif;padding:.8rem 1.1rem;border:0;border-radius:999px;background:var(--k-brand,#1f6f61);color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    "button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #f0a202;outline-offset:2px}",
    "dialog{border:0;border-radius:.75rem;padding:0;width:min(26rem,calc(100vw - 1rem));max-height:calc(100vh - 2rem);background:#fff;color:#1d2a2f;box-shadow:0 10px 40px rgba(0,0,0,.3)}",
    "dialog::backdrop{background:rgba(0,0,0,.35)}",
    ".head{display:flex;align-items:center;justify-content:space-between;gap:.5rem;padding:.8rem 1rem;background:var(--k-brand,#1f6f61);color:#fff}",
    ".head h2{margin:0;font-size:1.1rem}",
    ".x{border:1px solid #fff;background:transparent;color:#fff;border-radius:.375rem;padding:.3rem .6rem;font:inherit;cursor:pointer}",
    ".in{padding:1rem;overflow-wrap:anywhere}",
    "h3{font-size:1rem;margin:1.1rem 0 .4rem}",
    "p{margin:.4rem 0}",
    ".big{font-size:1.6rem;font-weight:700}",
    ".muted{color:#4f5f66}",
    ".btn{display:inline-block;font:inherit;font-weight:600;padding:.45rem .9rem;border-radius:.375rem;border:1px solid var(--k-brand,#1f6f61);background:var(--k-brand,#1f6f61);color:#fff;cursor:pointer;text-decoration:none}",
    ".btn.alt{background:#fff;color:var(--k-brand,#1f6f61)}",
    "a{color:var(--k-brand,#1f6f61)}",
    "ul{list-style:none;margin:0;padding:0}",
    "li{padding:.45rem 0;border-top:1px solid #e5e1d8}",
    ".row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;justify-content:space-between}",
    ".share{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.5rem}",
    "input{font:inherit;width:100%;padding:.4rem;border:1px solid #8a9499;border-radius:.375rem;margin:.25rem 0}",
    "progress{width:100%;height:.8rem;accent-color:var(--k-brand,#1f6f61)}",
    ".note{background:#e6f2ef;border-radius:.375rem;padding:.6rem;margin:.6rem 0}",
    ".err{background:#fdecea;color:#82110f}",
    ".code{font:700 1.2rem/1.4 ui-monospace,monospace;letter-spacing:.05em}",
    ".rv{font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2a2f}",
    ".rv h2{font-size:1.25rem;margin:0 0 .3rem}",
    ".rv h3{margin:.3rem 0}",
    ".rv+.rv{margin-top:1.5rem}",
    ".stars{color:#8a5f00;font-weight:700}",
    ".bars li{display:flex;gap:.5rem;align-items:center;border:0;padding:.1rem 0}",
    ".bar{flex:1;height:.6rem;background:#eee;border-radius:.3rem;overflow:hidden}",
    ".bar span{display:block;height:100%;background:#8a5f00}",
    ".reply{border-left:3px solid var(--k-brand,#1f6f61);padding-left:.6rem;margin:.4rem 0}",
    ".photos{display:flex;flex-wrap:wrap;gap:.4rem}",
    ".photos img{width:72px;height:72px;object-fit:cover;border-radius:.3rem}",
    ".label{display:inline-block;font-size:.85rem;background:#f3efe4;border-radius:.3rem;padding:0 .35rem;margin-right:.3rem}"
  ].join("\n");

  function sheet() {
    var s = new CSSStyleSheet();
    s.replaceSync(CSS);
    return s;
  }

  function h(name, attrs) {
    var el = document.createElement(name);
    for (var k in attrs || {}) {
      if (k === "text") el.textContent = attrs[k];
      else if (k === "on") el.addEventListener("click", attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== undefined) el.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) if (arguments[i]) el.append(arguments[i]);
    return el;
  }

  function fill(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (_m, n) { return values[n]; });
  }

  function num(n) {
    return Number(n).toLocaleString(data && data.lang || document.documentElement.lang || undefined);
  }

  function call(path, options) {
    var ctl = "AbortController" in window ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctl) ctl.abort(); }, 8000);
    options = options || {};
    options.credentials = "omit";
    options.mode = "cors";
    if (ctl) options.signal = ctl.signal;
    return fetch(ORIGIN + path, options).then(function (r) {
      clearTimeout(timer);
      return r.json().then(function (j) { j.status = r.status; return j; });
    });
  }

  function post(path, payload) {
    payload.key = KEY;
    return call(path, {
      method: "POST",
      headers: {"Content-Type": "text/plain"},
      body: JSON.stringify(payload)
    });
  }

  function referralCode() {
    try { return sessionStorage.getItem(REF_KEY); } catch (e) { return null; }
  }

  function keepReferral() {
    var code = new URLSearchParams(location.search).get("ref");
    if (code && /^[A-Za-z0-9-]{1,40}$/.test(code)) {
      try { sessionStorage.setItem(REF_KEY, code.toUpperCase()); } catch (e) { /* private mode */ }
    }
  }

  function load() {
    var mine = ++loading;
    return post("/widget/v1/panel/", {
      token: token, lang: document.documentElement.lang || "", ref: referralCode() || ""
    }).then(function (d) {
      if (mine !== loading || d.status !== 200) return;
      data = d;
      render();
    }).catch(function () { /* Kindred unreachable: the shop goes on without the widget. */ });
  }

  function mount() {
    if (host) return;
    host = h("div", {"data-kindred-widget": ""});
    root = host.attachShadow({mode: "open"});
    root.adoptedStyleSheets = [sheet()];
    launcher = h("button", {type: "button", "class": "launch k", "aria-haspopup": "dialog", on: open});
    dialog = h("dialog", {"class": "k", "aria-labelledby": "k-title"});
    dialog.addEventListener("close", function () { launcher.focus(); });
    dialog.addEventListener("click", function (e) { if (e.target === dialog) dialog.close(); });
    root.append(launcher, dialog);
    document.body.append(host);
  }

  function open() {
    if (!dialog.open) dialog.showModal();
    var first = root.getElementById("k-close");
    if (first) first.focus();
  }

  function close() { dialog.close(); }

  function render() {
    mount();
    var s = data.strings;
    host.style.setProperty("--k-brand", data.business.colour);
    launcher.textContent = data.customer ?
      s.open + " · " + num(data.customer.points.settled) : s.open;
    var wasOpen = dialog.open;
    body = h("div", {"class": "in", "aria-live": "polite"});
    dialog.replaceChildren(
      h("div", {"class": "head"},
        h("h2", {id: "k-title", text: s.title}),
        h("button", {type: "button", "class": "x", id: "k-close", on: close, text: s.close})),
      body);
    if (data.customer) member(s, data.customer); else visitor(s);
    if (wasOpen) root.getElementById("k-close").focus();
  }

  function visitor(s) {
    var ref = data.referral;
    if (ref) {
      body.append(h("p", {"class": "note", text: fill(s.friend_offer, {name: ref.first_name, offer: ref.offer})}));
    }
    body.append(h("p", {text: s.signed_out}));
    body.append(h("p", null, h("a", {"class": "btn", href: ref ? ref.url : data.signup_url, target: "_blank", rel: "noopener", text: s.join})));
  }

  function member(s, c) {
    body.append(h("p", null, h("span", {"class": "big", text: num(c.points.settled)}), " " + s.points));
    if (c.points.pending) body.append(h("p", {"class": "muted", text: "+" + num(c.points.pending) + " " + s.pending}));
    if (c.tier.name || c.tier.next) {
      body.append(h("h3", {text: s.tier + (c.tier.name ? ": " + c.tier.name : "")}));
      if (c.tier.next) {
        var label = fill(s.to_next, {points: num(c.tier.points_to_next), tier: c.tier.next});
        body.append(h("progress", {max: "100", value: String(c.tier.percent), "aria-label": label}),
          h("p", {"class": "muted", text: label}));
      }
    }
    var link = h("input", {id: "k-link", readonly: "", value: c.referral.url});
    var copy = h("button", {type: "button", "class": "btn alt", text: s.copy});
    copy.addEventListener("click", function () {
      var done = function () { copy.textContent = s.copied; };
      if (navigator.clipboard) navigator.clipboard.writeText(c.referral.url).then(done, function () { link.select(); });
      else { link.select(); done(); }
    });
    var share = h("div", {"class": "share"}, copy);
    c.referral.share.forEach(function (item) {
      share.append(h("a", {"class": "btn alt", href: item.url, target: "_blank", rel: "noopener", text: item.label}));
    });
    body.append(h("h3", {text: s.referral_link}), h("label", {"for": "k-link", "class": "muted", text: s.referral_link}), link, share);
    if (c.referral.friend_offer) body.append(h("p", {"class": "muted", text: fill(s.your_friends_get, {offer: c.referral.friend_offer})}));
    body.append(h("h3", {text: s.rewards}));
    if (!c.rewards.length) body.append(h("p", {"class": "muted", text: s.no_rewards}));
    var list = h("ul");
    c.rewards.forEach(function (reward) {
      var button = h("button", {type: "button", "class": "btn", text: s.redeem,
        "aria-label": s.redeem + ": " + reward.name});
      button.addEventListener("click", function () { confirmRedeem(s, reward, button); });
      list.append(h("li", {"class": "row"},
        h("span", null, h("strong", {text: reward.name}), " ", h("span", {"class": "muted", text: num(reward.points) + " " + s.points})),
        button));
    });
    body.append(list, h("h3", {text: s.activity}));
    if (!c.activity.length) body.append(h("p", {"class": "muted", text: s.no_activity}));
    var acts = h("ul");
    c.activity.forEach(function (a) {
      acts.append(h("li", {"class": "row"},
        h("span", {text: a.date + ": " + a.what + (a.pending ? " (" + s.pending + ")" : "")}),
        h("strong", {text: (a.points > 0 ? "+" : "") + num(a.points)})));
    });
    body.append(acts);
  }

  function confirmRedeem(s, reward, from) {
    var box = h("div", {"class": "note", role: "group", "aria-labelledby": "k-confirm"});
    var yes = h("button", {type: "button", "class": "btn", text: s.yes});
    var no = h("button", {type: "button", "class": "btn alt", text: s.cancel});
    box.append(h("p", {id: "k-confirm", text: fill(s.confirm, {reward: reward.name, points: num(reward.points)})}),
      h("div", {"class": "share"}, yes, no));
    body.prepend(box);
    yes.focus();
    no.addEventListener("click", function () { box.remove(); from.focus(); });
    var requestId = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
    yes.addEventListener("click", function () {
      yes.disabled = no.disabled = true;
      post("/widget/v1/redeem/", {token: token, reward: reward.id, request_id: requestId}).then(function (r) {
        var message = r.status === 201 ?
          h("p", {"class": "note code", role: "status", id: "k-voucher", text: fill(s.voucher, {code: r.voucher.code})}) :
          h("p", {"class": "note err", role: "alert", text: fill(s.failed, {error: r.message || ""})});
        return load().then(function () {
          body.prepend(message);
          message.setAttribute("tabindex", "-1");
          message.focus();
        });
      }).catch(function () {
        box.replaceChildren(h("p", {"class": "note err", role: "alert", text: s.offline}));
      });
    });
  }

  function identify(next) {
    token = next || null;
    if (!next && dialog && dialog.open) dialog.close();
    return load();
  }

  function questions(shadow, d, s) {
    var title = h("h2", {id: "k-qa-" + d.subject.slug, text: s.questions});
    var qa = h("section", {"class": "rv", "aria-labelledby": title.id}, title);
    if (!d.questions.length) qa.append(h("p", {text: s.no_questions}));
    var list = h("ul");
    d.questions.forEach(function (q) {
      var item = h("li", null, h("h3", {text: q.body}), h("p", {"class": "muted", text: q.author + " · " + q.date}));
      q.answers.forEach(function (a) {
        item.append(h("div", {"class": "reply"},
          h("p", {"class": "muted"}, (a.author ? a.author + " · " : "") + a.date + " ",
            a.label ? h("span", {"class": "label", text: s[a.label]}) : null,
            a.incentivised ? h("span", {"class": "label", text: s.answer_incentivised}) : null),
          h("p", {text: a.body})));
      });
      list.append(item);
    });
    qa.append(list, h("p", null, h("a", {href: d.questions_url, target: "_blank", rel: "noopener", text: s.ask})));
    shadow.append(qa);
  }

  function reviews(el) {
    var slug = el.getAttribute("data-kindred-reviews");
    if (!slug || el.shadowRoot) return;
    var shadow = el.attachShadow({mode: "open"});
    shadow.adoptedStyleSheets = [sheet()];
    var section = h("section", {"class": "rv"});
    var list = h("ul");
    shadow.append(section);
    function page(n) {
      var q = "?key=" + encodeURIComponent(KEY) + "&page=" + n + "&lang=" + encodeURIComponent(document.documentElement.lang || "");
      return call("/widget/v1/reviews/" + encodeURIComponent(slug) + "/" + q).then(function (d) {
        if (d.status !== 200) return;
        var s = d.strings;
        if (n === 1) {
          var sum = d.summary, title = h("h2", {id: "k-rv-" + slug, text: s.reviews + ": " + d.subject.name});
          section.setAttribute("aria-labelledby", title.id);
          section.append(title);
          if (!sum.count) section.append(h("p", {text: s.no_reviews}));
          else {
            section.append(h("p", null, h("span", {"class": "stars", text: "★ " + d.average_text, "aria-hidden": "true"}), " ",
              h("span", {text: d.summary_text})));
            var bars = h("ul", {"class": "bars"});
            ["5", "4", "3", "2", "1"].forEach(function (stars) {
              var fillBar = h("span");
              fillBar.style.width = (sum.distribution[stars] * 100 / sum.count) + "%";
              bars.append(h("li", null, h("span", {text: d.star_labels[stars]}),
                h("span", {"class": "bar", "aria-hidden": "true"}, fillBar),
                h("span", {text: String(sum.distribution[stars])})));
            });
            section.append(bars, list);
          }
          questions(shadow, d, s);
          if (d.structured_data && el.hasAttribute("data-kindred-structured-data")) {
            document.head.append(h("script", {type: "application/ld+json", text: JSON.stringify(d.structured_data)}));
          }
        }
        d.reviews.forEach(function (r) {
          var item = h("li", null,
            h("p", null, h("span", {"class": "stars", text: "★".repeat(r.rating) + "☆".repeat(5 - r.rating), role: "img", "aria-label": d.star_labels[r.rating]})),
            h("h3", {text: r.title}),
            h("p", {"class": "muted"}, r.author + " · " + r.date + " ",
              r.verified_purchase ? h("span", {"class": "label", text: s.verified}) : null,
              r.incentivised ? h("span", {"class": "label", text: s.incentivised}) : null),
            h("p", {text: r.body}));
          if (r.photos.length) {
            var photos = h("div", {"class": "photos"});
            r.photos.forEach(function (p, i) {
              photos.append(h("a", {href: p.image, target: "_blank", rel: "noopener"},
                h("img", {src: p.thumbnail, alt: r.title + " " + (i + 1), loading: "lazy"})));
            });
            item.append(photos);
          }
          if (r.reply) item.append(h("div", {"class": "reply"}, h("p", {text: fill(s.reply, {name: r.reply.author})}), h("p", {text: r.reply.body})));
          list.append(item);
        });
        var old = section.querySelector(".more");
        if (old) old.remove();
        if (d.next_page) {
          section.append(h("button", {type: "button", "class": "btn alt more", text: s.more, on: function () { page(d.next_page); }}));
        }
      }).catch(function () { /* no reviews block while Kindred is unreachable */ });
    }
    page(1);
  }

  window.Kindred = {
    version: 1,
    identify: identify,
    referralCode: referralCode,
    open: function () { if (dialog) open(); }
  };
  keepReferral();
  function start() {
    load();
    document.querySelectorAll("[data-kindred-reviews]").forEach(reviews);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
