"""The checks registry: one module per check, each a small dataclass behind this dict."""

from .base import EXIT_CODES, STATUSES, Check, CheckResult, worst_status
from .cpu import CpuCheck
from .disk import DiskCheck
from .load import LoadCheck
from .memory import MemoryCheck
from .network import NetworkCheck
from .process import ProcessCheck
from .swap import SwapCheck
from .uptime import UptimeCheck

CHECKS: dict[str, type[Check]] = {
    "cpu": CpuCheck,
    "memory": MemoryCheck,
    "swap": SwapCheck,
    "load": LoadCheck,
    "disk": DiskCheck,
    "network": NetworkCheck,
    "process": ProcessCheck,
    "uptime": UptimeCheck,
}

__all__ = ["CHECKS", "EXIT_CODES", "STATUSES", "Check", "CheckResult", "worst_status"]
