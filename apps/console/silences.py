"""Silences in the console: which incidents are held back now, and "silence for..." on an
incident page (apps.alerts.silences and apps.alerts.inhibition do the work)."""

import re

from apps.alerts import silences
from apps.alerts.inhibition import QuietCheck
from apps.alerts.models import Alert, Incident, Silence
from apps.common.matchers import Matcher

SILENCES_ENABLED = True
# What the incident page offers (label, duration).
DURATIONS = (("1 hour", "1h"), ("4 hours", "4h"), ("1 day", "24h"))


def silence_marks(incident_ids: list[int]) -> dict[int, str]:
    """incident id -> why its pages are held back now (silenced or inhibited); two to four
    queries whatever the number of incidents."""
    return {pk: quiet.reason for pk, quiet in QuietCheck().incidents(incident_ids).items()
            if quiet.reason}  # fmt: skip


def matchers_for(incident: Incident) -> list[str]:
    """Matchers covering an incident's firing alerts: their alertname (a regex of the names when
    they differ) and their host when they share one, so an incident elsewhere is not silenced."""
    firing = list(incident.alerts.filter(status=Alert.Status.FIRING).order_by("id")[:200])
    alerts = firing or list(incident.alerts.order_by("id")[:200])
    labels = [silences.alert_labels(alert) for alert in alerts]
    names = sorted({item["alertname"] for item in labels}) or [incident.title]
    hosts = sorted({item.get("host", "") for item in labels} - {""}) or [incident.host]
    if len(names) == 1:
        matchers = [Matcher("alertname", "=", names[0])]
    else:
        matchers = [Matcher("alertname", "=~", "|".join(re.escape(name) for name in names))]
    if len(hosts) == 1 and hosts[0]:
        matchers.append(Matcher("host", "=", hosts[0]))
    return [str(matcher) for matcher in matchers]


def silence_incident(incident: Incident, duration: str, comment: str, who: str) -> Silence:
    if duration not in {value for _, value in DURATIONS}:
        raise silences.SilenceError(f"choose a duration: {', '.join(v for _, v in DURATIONS)}")
    return silences.create(
        matchers_for(incident),
        comment=comment or f"silenced from the console for incident #{incident.pk}",
        created_by=who,
        duration=duration,
    )
