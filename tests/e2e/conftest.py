"""End-to-end and long-running tests: `make e2e` (`pytest -m e2e tests/e2e`).

`make test` collects tests/ as a whole; tests marked e2e are skipped there unless the run
selects them with `-m e2e`.
"""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: long-running end-to-end test (make e2e)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "e2e" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="end-to-end test: run with `make e2e` (pytest -m e2e)")
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(skip)
