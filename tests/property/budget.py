"""How hard the property suite tries: CI's default keeps the whole suite near two minutes on
two cores; `make property` (FOCUS_PROPERTY_EXAMPLES=500) digs deeper."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

EXAMPLES = int(os.environ.get("FOCUS_PROPERTY_EXAMPLES", "25"))
"""Random examples per test (Hypothesis' max_examples), beside the spec's own and its edges."""
DERANDOMIZE = "FOCUS_PROPERTY_EXAMPLES" not in os.environ
"""CI draws the same examples every run (a red build names a real change); deeper runs explore."""
PHASES = tuple(Phase) if not DERANDOMIZE else tuple(p for p in Phase if p is not Phase.shrink)
"""CI reports a failure as found (schemathesis' coverage cases are small already); deeper runs
shrink it."""

ONE_USER_EACH = settings(
    max_examples=EXAMPLES,
    derandomize=DERANDOMIZE,
    phases=PHASES,
    deadline=None,
    # One user per test or operation (a function-scoped fixture) is what we want: data
    # accumulates within its examples, as it would on a phone.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""Hypothesis' settings for API tests whose examples share one user (per test, or per
operation of the spec under schemathesis)."""
