"""The console's two groups: viewers see everything and act on nothing; operators also act.

Kept in step with this table after every `migrate` (permissions are created by then). A
superuser needs neither group."""

from typing import Any

VIEW = [
    "alerts.view_incident",
    "alerts.view_alert",
    "orchestration.view_pipelinerun",
    "orchestration.view_pipelinedefinition",
    "hosts.view_host",
    "notify.view_delivery",
    "intelligence.view_analysisrun",
    "alerts.view_silence",
    "alerts.view_inhibitionrule",
]
# Acknowledge and resolve; run again and resume; add and expire silences.
ACT = [
    "alerts.change_incident",
    "orchestration.add_pipelinerun",
    "alerts.add_silence",
    "alerts.change_silence",
]
GROUPS = {"console-viewers": VIEW, "console-operators": VIEW + ACT}
SEE = "alerts.view_incident"
CHANGE_INCIDENT = "alerts.change_incident"
START_RUNS = "orchestration.add_pipelinerun"
ADD_SILENCE = "alerts.add_silence"
EXPIRE_SILENCE = "alerts.change_silence"


def ensure_groups(sender: Any = None, using: str = "default", **kwargs: Any) -> None:
    from django.contrib.auth.models import Group, Permission

    wanted = {perm for perms in GROUPS.values() for perm in perms}
    found = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.using(using).select_related("content_type")
        if f"{p.content_type.app_label}.{p.codename}" in wanted
    }
    if len(found) < len(wanted):
        return  # an app's migrations have not run yet: a later post_migrate completes it
    for name, perms in GROUPS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set([found[perm] for perm in perms])
