"""Test helpers for projects that use modelwire (the pytest plugin lives in `pytest_plugin`)."""
