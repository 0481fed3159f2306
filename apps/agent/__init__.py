"""incident-agent: runs the host checks on a server and posts snapshots to the hub.

Needs only psutil and httpx, never Django: it imports apps.checkers.checks (Django-free, reads
settings only where Django is loaded) and apps.common.retry / text / registry (plain Python).
Entry points: `python -m apps.agent` and the `incident-agent` console script (apps.agent.cli).
"""
