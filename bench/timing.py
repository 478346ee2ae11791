"""What the benchmarks share: timed runs, their totals per contender, and the ratio to a baseline.

A contender's rate is its total count over its total time (not a mean of per-round rates), and
the ratio line also shows each round's, so that a noisy round is seen rather than averaged in.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class Run:
    count: int
    """Records or events handled."""
    seconds: float
    cpu: float | None = None
    """Client CPU seconds, where measured."""
    server_cpu: float | None = None
    """The server processes' CPU seconds, where measured (None: not on this machine)."""

    @property
    def rate(self) -> float:
        return self.count / self.seconds


@dataclass
class Results:
    runs: dict[str, list[Run]] = field(default_factory=dict)

    def add(self, name: str, run: Run) -> None:
        self.runs.setdefault(name, []).append(run)

    def rate(self, name: str) -> float:
        runs = self.runs[name]
        return sum(r.count for r in runs) / sum(r.seconds for r in runs)

    def ratio(self, name: str, baseline: str) -> float:
        return self.rate(name) / self.rate(baseline)

    def ratio_line(self, name: str, baseline: str, label: str) -> str:
        """`label X (rounds: a b c; median m)`: the overall ratio, then each round's."""
        pairs = zip(self.runs[name], self.runs[baseline], strict=True)
        rounds = [ours.rate / base.rate for ours, base in pairs]
        return (
            f"{label} {self.ratio(name, baseline):.2f} (rounds:"
            f" {' '.join(f'{x:.2f}' for x in rounds)}; median {statistics.median(rounds):.2f})"
        )
