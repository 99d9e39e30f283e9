"""Shared test settings: one fixed hypothesis profile, so random graphs are the same in every run."""
from hypothesis import HealthCheck, settings

settings.register_profile("micrograd", max_examples=200, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("micrograd")
