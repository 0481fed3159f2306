"""The checks registry: one module per check, each a small dataclass, named here by dotted path
and imported on first use (apps.common.registry).

Importable without Django: the agent runs these checks on servers where Django is absent.
"""

# Imported under another name: the submodule `load` (the load check) becomes an attribute of this
# package on first use and would shadow it.
from apps.common.registry import UnknownName
from apps.common.registry import load as load_entry

from .base import EXIT_CODES, STATUSES, Check, CheckResult, worst_status

CHECKS: dict[str, str] = {
    "cpu": "apps.checkers.checks.cpu.CpuCheck",
    "memory": "apps.checkers.checks.memory.MemoryCheck",
    "swap": "apps.checkers.checks.swap.SwapCheck",
    "load": "apps.checkers.checks.load.LoadCheck",
    "disk": "apps.checkers.checks.disk.DiskCheck",
    "network": "apps.checkers.checks.network.NetworkCheck",
    "process": "apps.checkers.checks.process.ProcessCheck",
    "uptime": "apps.checkers.checks.uptime.UptimeCheck",
}


def check_class(name: str) -> type[Check]:
    """The class of check `name`; UnknownName (a KeyError) with a one-line message otherwise."""
    return load_entry(CHECKS, name, "check")


__all__ = [
    "CHECKS",
    "EXIT_CODES",
    "STATUSES",
    "Check",
    "CheckResult",
    "UnknownName",
    "check_class",
    "worst_status",
]
