"""The hook for silences (another issue builds them): which incidents a silence covers, and
whether the console offers "silence for…".

Until then nothing is marked silenced and no silence action is offered; the pages and the
incident rows carry `silenced` (None = not known) so the silences work only fills these."""

SILENCES_ENABLED = False


def silence_marks(incident_ids: list[int]) -> dict[int, str]:
    """incident id -> a short description of the silence covering it (none yet)."""
    return {}
