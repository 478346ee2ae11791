"""App Check on the routes that change state, switchable per platform (docs/adr/0013).

`off`: not looked at. `monitor`: checked and counted in `focus_app_check_total`, never
refused: the numbers say when enough of the installed apps send valid tokens to enforce.
`enforce`: a write without a valid token is refused with 403 (`app_check_missing`,
`app_check_invalid`). A request that names no known platform gets the strictest mode
configured, so leaving out `X-Platform` cannot skip the check.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from prometheus_client import Counter
from starlette.datastructures import Headers

from domain.errors import AuthUnavailable, Forbidden
from domain.identity import AppCheckVerifier

log = logging.getLogger("api.app_check")

HEADER = "X-Firebase-AppCheck"

CHECKS = Counter(
    "focus_app_check_total",
    "App Check tokens on state-changing requests, by platform (X-Platform) and outcome:"
    " valid, missing, invalid, unavailable (App Check's keys could not be fetched: allowed).",
    ["platform", "outcome"],
)


class AppCheckMode(StrEnum):
    OFF = "off"
    MONITOR = "monitor"
    ENFORCE = "enforce"


_STRICTNESS = [AppCheckMode.OFF, AppCheckMode.MONITOR, AppCheckMode.ENFORCE]


@dataclass(frozen=True, slots=True)
class AppCheckPolicy:
    verifier: AppCheckVerifier
    modes: Mapping[str, AppCheckMode] = field(default_factory=dict)
    """Per platform (`ios`, `android`); a request naming none of them gets the strictest."""

    def mode_for(self, platform: str) -> AppCheckMode:
        if platform in self.modes:
            return self.modes[platform]
        return max(self.modes.values(), key=_STRICTNESS.index, default=AppCheckMode.OFF)

    async def check(self, headers: Headers) -> None:
        """Raises `Forbidden` when the platform's mode is `enforce` and the token is bad."""
        platform = headers.get("x-platform", "").lower()
        mode = self.mode_for(platform)
        if mode is AppCheckMode.OFF:
            return
        label = platform if platform in self.modes else "unknown"
        token = headers.get(HEADER.lower(), "").strip()
        if not token:
            CHECKS.labels(platform=label, outcome="missing").inc()
            if mode is AppCheckMode.ENFORCE:
                raise Forbidden(
                    code="app_check_missing",
                    detail=f"send a Firebase App Check token in {HEADER}",
                )
            return
        try:
            await self.verifier.verify(token)
        except Forbidden:
            CHECKS.labels(platform=label, outcome="invalid").inc()
            if mode is AppCheckMode.ENFORCE:
                raise
            return
        except AuthUnavailable as error:
            # App Check is a signal about the app, on top of the user's own token: while its
            # keys cannot be fetched, writes go on rather than the whole API failing with it.
            CHECKS.labels(platform=label, outcome="unavailable").inc()
            log.warning("api.app_check.unavailable", extra={"detail": error.detail})
            return
        CHECKS.labels(platform=label, outcome="valid").inc()
