"""Shared fixtures: the demo lemlist API (see demo_fixtures.py)."""

pytest_plugins = ["demo_fixtures"]
