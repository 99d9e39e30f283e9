"""Shared test settings: one fixed hypothesis profile, and a clear word when torch is missing."""
import importlib.util

from hypothesis import HealthCheck, settings

settings.register_profile("micrograd", max_examples=200, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("micrograd")

TORCH_HINT = ("torch is not installed: the test files that compare with torch fail to import, the "
              "others still run. Install the CPU build first: pip install torch==2.13.0")


def _torch_missing():
    return importlib.util.find_spec("torch") is None


def pytest_report_header(config):
    if _torch_missing():
        return TORCH_HINT


def pytest_terminal_summary(terminalreporter):
    if _torch_missing():
        terminalreporter.write_line(TORCH_HINT, red=True)
