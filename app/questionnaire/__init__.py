"""Questionnaire definitions: schema, strict loader, content hashes, registry."""
