"""Every versioned route, written once in the newest version's shapes, area by area."""

from __future__ import annotations

from fastapi import APIRouter

from api.resources.blocklists.routes import router as blocklists
from api.resources.devices.routes import router as devices
from api.resources.focus_sessions.routes import router as focus_sessions
from api.resources.insights.routes import router as insights
from api.resources.me.routes import router as me
from api.resources.privacy.routes import router as privacy
from api.resources.schedules.routes import router as schedules
from api.resources.stats.routes import router as stats
from api.resources.sync.routes import router as sync
from api.resources.usage.routes import router as usage

AREAS: tuple[APIRouter, ...] = (
    me,
    devices,
    blocklists,
    schedules,
    focus_sessions,
    usage,
    stats,
    sync,
    privacy,
    insights,
)

BUSIEST: tuple[str, ...] = (
    "get_me",
    "sync",
    "list_focus_sessions",
    "get_stats",
    "get_focus_session",
)
"""The routes the apps call most (every launch, every sync, the sessions screen): matched
first. The order of AREAS is the spec's."""
