"""Sources of host facts for alerts about other machines (prometheus: node_exporter series)."""
