"""The focus product's domain: entities, rules, ports and use cases. Imports nothing of ours."""
