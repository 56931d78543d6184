"""End-to-end and long-running tests: `make e2e` (or `pytest -m e2e tests/e2e`)."""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: long-running end-to-end test (make e2e)")
