"""Loyalty: the points ledger, earn rules, tiers, rewards, vouchers and gifts."""
