"""AI providers behind the `InsightProvider` port: the local rule-based one, later a hosted one."""
