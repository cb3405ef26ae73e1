"""Invitation links: how hospital staff reach the web form without an API key."""
