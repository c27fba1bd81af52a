"""Fraud and hygiene rules on email addresses: one canonical form, hashes, disposable domains."""

from __future__ import annotations

import hashlib

from referrals.models import DisposableDomain, SuppressedEmail

# Providers that deliver "a.nna@gmail.com" to "anna@gmail.com".
DOT_BLIND_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def email_canonical(email: str) -> str:
    """One form per mailbox: lower case, no +tag, no dots where the provider ignores them."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in DOT_BLIND_DOMAINS:
        local, domain = local.replace(".", ""), DOT_BLIND_DOMAINS[domain]
    return f"{local}@{domain}"


def email_key(email: str) -> str:
    """The hash that stands for an address in the suppression list and invitation checks."""
    return hashlib.sha256(email_canonical(email).encode()).hexdigest()


def same_mailbox(first: str, second: str) -> bool:
    return email_canonical(first) == email_canonical(second)


def is_disposable(email: str) -> bool:
    domain = email.strip().lower().rpartition("@")[2]
    return DisposableDomain.objects.filter(domain=domain).exists()


def is_suppressed(email: str) -> bool:
    return SuppressedEmail.objects.filter(email_key=email_key(email)).exists()
