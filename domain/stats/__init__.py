"""stats: focus per local day and streaks, computed from focus sessions."""
