"""Shared infrastructure below every app: database and cache helpers, email sending,
the image pipeline, validators, the read-only admin and the staff groups. No business models."""
