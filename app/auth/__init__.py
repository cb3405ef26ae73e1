"""API keys, roles and organization scope."""
