"""Helpers the test packages share: browsers, servers, databases, the CLI, questionnaires.

Plain functions and context managers (the fixtures built on them are in tests/conftest.py),
so a test module imports what it needs from here rather than from another test module.
"""
