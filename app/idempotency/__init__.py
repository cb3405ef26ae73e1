"""Safe retries: a POST with an Idempotency-Key is answered once and replayed after."""
