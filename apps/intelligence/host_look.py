"""Bounded, time-boxed looks at this machine for the local analyser's recommendations.

Nothing here walks a whole filesystem: every look has an entry cap and a time budget and says
when it stopped early.
"""

import os
import stat
import time
from dataclasses import dataclass
from typing import Any

MAX_TOP_ENTRIES = 100  # direct entries of the flagged mount we look at
MAX_ENTRIES_TOTAL = 20000  # stat calls across the whole look
RECENT_S = 24 * 3600


@dataclass
class Look:
    """What the rules may do beyond reading their input."""

    allowed: bool  # config "inspect" and the incident is about this machine
    end: float  # monotonic time by which any look must stop

    def budget(self, cap: float = 0.5) -> float:
        return max(0.0, min(cap, self.end - time.monotonic()))


def _dir_size(path: str, device: int, end: float, budget: list[int]) -> tuple[int, float, bool]:
    """Bytes of regular files under path on the same device; (bytes, newest mtime, complete)."""
    total, newest, stack = 0, 0.0, [path]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    if budget[0] <= 0 or time.monotonic() > end:
                        return total, newest, False
                    budget[0] -= 1
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if info.st_dev != device:
                        continue  # another mount
                    if stat.S_ISDIR(info.st_mode):
                        stack.append(entry.path)
                    elif stat.S_ISREG(info.st_mode):
                        total += info.st_size
                        newest = max(newest, info.st_mtime)
        except OSError:
            continue
    return total, newest, True


def largest_entries(mount: str, *, time_budget_s: float = 0.5, top: int = 3) -> dict[str, Any]:
    """The biggest direct entries of mount (directory sizes summed within the budget).

    Returns {"entries": [{"name", "bytes", "complete", "modified_s_ago"}], "complete"};
    entries is empty when the mount cannot be read.
    """
    end = time.monotonic() + max(0.0, time_budget_s)
    result: dict[str, Any] = {"entries": [], "complete": True}
    try:
        device = os.stat(mount).st_dev
        with os.scandir(mount) as scan:
            children = [entry for _, entry in zip(range(MAX_TOP_ENTRIES + 1), scan, strict=False)]
    except OSError:
        return result
    if len(children) > MAX_TOP_ENTRIES:
        children, result["complete"] = children[:MAX_TOP_ENTRIES], False
    budget = [MAX_ENTRIES_TOTAL]
    now = time.time()
    sized: list[dict[str, Any]] = []
    for index, entry in enumerate(children):
        # Share what is left of the time budget between the entries still to look at.
        share_end = min(end, time.monotonic() + (end - time.monotonic()) / (len(children) - index))
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if info.st_dev != device:
            continue
        if stat.S_ISDIR(info.st_mode):
            size, newest, complete = _dir_size(entry.path, device, share_end, budget)
        elif stat.S_ISREG(info.st_mode):
            size, newest, complete = info.st_size, info.st_mtime, True
        else:
            continue
        result["complete"] = result["complete"] and complete
        newest = newest or info.st_mtime
        sized.append(
            {
                "name": entry.name,
                "bytes": size,
                "complete": complete,
                "modified_s_ago": max(0, int(now - newest)),
            }
        )
    sized.sort(key=lambda item: item["bytes"], reverse=True)
    result["entries"] = sized[:top]
    return result


def top_memory_processes(*, limit: int = 3, time_budget_s: float = 0.5) -> list[dict[str, Any]]:
    """Largest processes by resident memory: name, pid, rss_bytes (never command lines)."""
    import psutil  # only when memory is the problem; keeps the module import cheap

    end = time.monotonic() + max(0.0, time_budget_s)
    processes = []
    for proc in psutil.process_iter(["pid", "name", "memory_info"]):
        if time.monotonic() > end:
            break
        memory = proc.info.get("memory_info")
        if memory is None:
            continue
        processes.append(
            {"name": proc.info.get("name") or "?", "pid": proc.info["pid"], "rss_bytes": memory.rss}
        )
    processes.sort(key=lambda p: p["rss_bytes"], reverse=True)
    return processes[:limit]


def is_this_host(host: str, local_name: str = "") -> bool:
    """True when host names this machine (or is empty): only then do local looks mean anything.

    local_name is the hostname the context checks reported; gethostname() otherwise (never
    getfqdn: it may block on DNS, and this runs in every pipeline).
    """
    name = host.strip().lower()
    if not name or name in ("localhost", "127.0.0.1", "::1"):
        return True
    if not local_name:
        import socket

        local_name = socket.gethostname()
    return name.split(".")[0] == local_name.strip().lower().split(".")[0]
