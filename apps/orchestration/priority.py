"""How urgent a run is: the order in which workers take waiting runs.

One number per run, 0 first, stored on the run (the local runner orders by it) and given to
Celery as the message priority (Redis keeps one list per step and empties the lower ones first).
A critical incident that opens or reopens is paged before anything else; a storm of warnings
waits behind it. A resolve is good news: it goes after the new problems of its severity.
"""

CRITICAL = 0
WARNING = 3
DEFAULT = 5  # runs started by hand (CLI, API) and anything without an incident
INFO = 6
RESOLVED_STEP = 2  # a resolve goes this many steps after the firing runs of its severity
LOWEST = 9  # Celery's Redis transport knows priorities 0-9

BY_SEVERITY = {"critical": CRITICAL, "error": CRITICAL, "unknown": WARNING, "warning": WARNING}


def run_priority(severity: str | None, reason: str = "") -> int:
    """The priority of a run for an incident of `severity`, started because of `reason`
    (new, reopened, severity_up, resolved)."""
    base = BY_SEVERITY.get(severity or "", INFO)
    if reason == "resolved":
        base += RESOLVED_STEP
    return min(base, LOWEST)
