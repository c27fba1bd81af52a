"""Referrals: programs, invitations, referral links and attribution."""
