"""Data-subject requests: the rules (model, clock, transitions), the plan of steps, the ports."""
