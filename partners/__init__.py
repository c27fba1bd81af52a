"""Partners: the partner REST API, API keys, idempotency and webhooks."""
