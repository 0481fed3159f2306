"""Detection: every fixture against every detector, junk against all, and clear errors."""

import copy
import importlib
import json
from pathlib import Path

import pytest

from apps.alerts import vendors
from apps.alerts.vendors import PayloadError

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
FIXTURES = sorted(str(p.relative_to(PAYLOADS)) for p in PAYLOADS.glob("*/*.json"))
MODULES = {name: importlib.import_module(path) for name, path in vendors.VENDORS.items()}


def load(relative: str):
    return json.loads((PAYLOADS / relative).read_text())


def nested(depth: int):
    value: object = "x"
    for level in range(depth):
        value = {"level": level, "alerts": [value], "status": "firing"}
    return value


JUNK = {
    "empty object": {},
    "empty list": [],
    "string": "x",
    "number": 42,
    "null": None,
    "bytes": b'{"name": "x"}',
    "unrelated object": {"server": "web-01"},
    "list of ints": [1, 2, 3],
    "list of alerts, no wrapper": [{"name": "x", "status": "firing"}],
    "alerts of ints": {"alerts": [1, 2, 3]},
    "alerts empty": {"alerts": []},
    "messages of strings": {"messages": ["incident.trigger"]},
    "event without type": {"event": {"data": {}}},
    "huge nested junk": nested(500),
    "wide junk": {f"key{i}": [i, {"v": str(i) * 10}] for i in range(20000)},
    "unicode junk": {"ключ": "значение", "🚨": ["🔥"] * 100},
    "wrong types": {"alerts": "many", "version": 4, "groupKey": None, "evalMatches": "x"},
}


def test_registry_shape():
    assert vendors.vendor_names() == list(vendors.VENDORS)
    assert set(vendors.VENDORS) == {
        "alertmanager",
        "grafana",
        "pagerduty",
        "datadog",
        "newrelic",
        "opsgenie",
        "zabbix",
        "generic",
    }
    assert vendors.vendor_names()[-1] == "generic"
    for name, module in MODULES.items():
        assert callable(module.detect) and callable(module.parse), name


@pytest.mark.parametrize("fixture", FIXTURES)
def test_exactly_the_right_detector_claims_each_fixture(fixture):
    payload = load(fixture)
    claims = [name for name, module in MODULES.items() if module.detect(payload)]
    assert claims == [fixture.split("/")[0]]
    assert vendors.detect(payload) == fixture.split("/")[0]


@pytest.mark.parametrize("label", JUNK)
def test_junk_is_claimed_by_no_detector(label):
    payload = JUNK[label]
    assert [name for name, module in MODULES.items() if module.detect(payload)] == []
    assert vendors.detect(payload) is None
    # Named, the generic parser still reads it, and says in one line what is missing.
    with pytest.raises(PayloadError, match=r"^(generic payload needs a 'name'|the body has no al)"):
        vendors.parse(payload, "generic")


@pytest.mark.parametrize("fixture", FIXTURES)
def test_parse_with_the_wrong_vendor_is_refused(fixture):
    payload = load(fixture)
    right = fixture.split("/")[0]
    for wrong in vendors.vendor_names():
        if wrong != right:
            with pytest.raises(PayloadError) as error:
                vendors.parse(payload, wrong)
            article = "an" if wrong[0] in "aeiou" else "a"
            if right == "generic":
                # Only generic claims it: the named vendor's lenient parser reads it first.
                assert str(error.value).endswith(" (it looks like generic)")
                assert "\n" not in str(error.value)
            else:
                assert (
                    str(error.value)
                    == f"payload is not {article} {wrong} payload (it looks like {right})"
                )


def test_unknown_vendor_name_is_a_payload_error():
    with pytest.raises(PayloadError, match=r"unknown vendor 'nagios' \(known: pagerduty,"):
        vendors.parse({"name": "x", "status": "firing"}, "nagios")


def test_a_long_value_in_an_error_is_cut_to_a_bounded_line():
    with pytest.raises(PayloadError) as error:
        vendors.parse({"name": "x", "status": "s" * 100}, "generic")
    assert str(error.value) == "alert.status: unknown status '" + "s" * 56 + "..."


def replace(payload, path, value):
    changed = copy.deepcopy(payload)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


def drop(payload, path):
    changed = copy.deepcopy(payload)
    target = changed
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return changed


AM = load("alertmanager/v4_firing_two_alerts.json")
GF_LEGACY = load("grafana/legacy_ok.json")
PD3 = load("pagerduty/v3_incident_triggered.json")
PD2 = load("pagerduty/v2_incident_trigger.json")
DD = load("datadog/log_alert_triggered.json")
NR = load("newrelic/classic_incident_closed.json")
NRW = load("newrelic/workflow_issue_created_default.json")
OG = load("opsgenie/create.json")
ZBX = load("zabbix/problem_average.json")
GCP = load("generic/gcp_monitoring_incident_open.json")
GEN = {"name": "Disk full", "status": "firing", "host": "web-01"}

# fmt: off
MALFORMED = [
    ("alertmanager", replace(AM, ["alerts"], []), "alertmanager payload has an empty 'alerts' list"),
    ("alertmanager", replace(AM, ["alerts"], ["x"]), "alerts[0] must be a JSON object, got string"),
    ("alertmanager", drop(replace(replace(replace(AM, ["commonLabels"], {}), ["commonAnnotations"], {}),
                                  ["alerts", 1, "annotations"], {}), ["alerts", 1, "labels", "alertname"]),
     "alerts[1].labels.alertname is missing or empty"),
    ("alertmanager", replace(AM, ["alerts", 0, "labels"], ["a"]), "alerts[0].labels must be a JSON object"),
    ("alertmanager", replace(AM, ["alerts", 0, "status"], "exploded"), "alerts[0].status: unknown status"),
    ("alertmanager", replace(AM, ["alerts", 0, "startsAt"], "yesterday"),
     "alerts[0].startsAt: cannot read time 'yesterday'"),
    ("grafana", replace(GF_LEGACY, ["state"], "exploded"), "grafana legacy payload: unknown state"),
    ("pagerduty", replace(PD3, ["event", "event_type"], "service.created"),
     "pagerduty event 'service.created' is not about an incident"),
    ("pagerduty", replace(PD3, ["event", "data", "title"], ""), "pagerduty event.data.title is missing"),
    ("pagerduty", drop(PD2, ["messages", 0, "incident", "id"]),
     "pagerduty messages[0].incident.id is missing or empty"),
    ("pagerduty", replace(PD2, ["messages"], [PD2["messages"][0], {"event": "x"}]),
     "pagerduty messages[1] is not an incident message"),
    ("datadog", replace(DD, ["alert_transition"], "Exploded") | {"alert_type": ""},
     "datadog payload: unknown alert_transition 'Exploded'"),
    ("datadog", replace(DD, ["title"], ""), "datadog payload has no 'title'"),
    ("datadog", replace(DD, ["date"], "soon"), "date: cannot read time 'soon'"),
    ("newrelic", replace(NR, ["current_state"], "sleepy"), "newrelic payload: unknown current_state 'sleepy'"),
    ("newrelic", replace(NRW, ["id"], None), "newrelic issue id is missing or empty"),
    ("newrelic", replace(NRW, ["createdAt"], 10**30), "createdAt: epoch time"),
    ("opsgenie", replace(OG, ["alert"], OG["alert"] | {"alertId": "", "alias": "", "tinyId": None}),
     "opsgenie alert has no alertId, alias or tinyId"),
    ("opsgenie", replace(OG, ["alert", "alertId"], {"id": 1}), "opsgenie alert.alertId must be a string"),
    ("zabbix", replace(ZBX, ["status"], "MAYBE"),
     "zabbix status must be PROBLEM, FIRING, RESOLVED, OK, 1 or 0, got 'MAYBE'"),
    ("zabbix", replace(ZBX, ["trigger"], " "), "zabbix payload has no trigger name"),
    ("zabbix", replace(ZBX, ["trigger"], {"a": 1}), "zabbix trigger must be a string, got object"),
    ("datadog", replace(DD, ["title"], ["x"]), "datadog title must be a string, got array"),
    ("generic", GEN | {"name": {"a": 1}}, "generic alert.name must be a string, got object"),
    ("generic", GEN | {"host": ["a"]}, "generic alert.host must be a string, got array"),
    ("generic", GEN | {"tags": 5}, "alert.tags must be a JSON object, array or string"),
    ("generic", replace(GCP, ["incident", "state"], "ajar"), "incident.state must be open or closed"),
    ("generic", GEN | {"labels": ["a", "b"]}, "alert.labels must be a JSON object, got array"),
    ("generic", GEN | {"labels": {"team": {"a": 1}}}, "alert.labels.team must be a string"),
    ("generic", GEN | {"status": "sideways"}, "alert.status: unknown status 'sideways'"),
    ("generic", GEN | {"started_at": "not a time"}, "alert.started_at: cannot read time"),
    ("generic", {"alerts": [GEN, {"status": "firing"}]}, "generic alerts[1] needs a 'name' or 'title'"),
    ("generic", {"alerts": [GEN, "oops"]}, "alerts[1] must be a JSON object, got string"),
]
# fmt: on


@pytest.mark.parametrize(("vendor", "payload", "message"), MALFORMED)
def test_malformed_payload_gives_a_one_line_error(vendor, payload, message):
    assert vendors.detect(payload) == vendor
    with pytest.raises(PayloadError) as error:
        vendors.parse(payload, vendor)
    assert str(error.value).startswith(message) or message in str(error.value)
    assert "\n" not in str(error.value)


def paths(value, prefix=(), depth=3):
    """Every key/index path into a payload, down to ``depth`` levels (first 3 list items)."""
    if depth == 0:
        return
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value[:3])
        if isinstance(value, list)
        else []
    )
    for key, item in items:
        yield (*prefix, key)
        yield from paths(item, (*prefix, key), depth - 1)


ODD_VALUES: list[object] = [
    None,
    0,
    -1,
    1e300,
    "",
    "null",
    "x" * 300,
    "ü🚨",
    [],
    [1],
    {},
    {"a": []},
    True,
]


def check_alert(alert):
    assert alert.name and isinstance(alert.name, str)
    assert alert.status in ("firing", "resolved")
    assert alert.severity in ("critical", "warning", "info")
    for moment in (alert.started_at, alert.ended_at):
        assert moment is None or moment.tzinfo is not None
    assert (
        alert.fingerprint and isinstance(alert.fingerprint, str) and len(alert.fingerprint) <= 200
    )
    assert alert.fingerprint_fields and all(isinstance(f, str) for f in alert.fingerprint_fields)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in alert.labels.items())
    assert isinstance(alert.annotations, dict)
    assert isinstance(alert.action, str) and isinstance(alert.url, str)
    json.dumps(alert.annotations)


@pytest.mark.parametrize("fixture", FIXTURES)
def test_mutated_fixtures_parse_or_fail_cleanly(fixture):
    """Every field of every fixture, replaced by odd values or removed: the vendor's own
    parser (no safety net) returns valid alerts or raises PayloadError, nothing else."""
    original = load(fixture)
    module = MODULES[fixture.split("/")[0]]
    outcomes = {"parsed": 0, "refused": 0}
    for path in list(paths(original)):
        variants = [replace(original, path, value) for value in ODD_VALUES]
        variants.append(drop(original, path))
        for payload in variants:
            if not module.detect(payload):
                continue
            try:
                alerts = module.parse(payload)
            except PayloadError as error:
                assert str(error) and "\n" not in str(error)
                outcomes["refused"] += 1
                continue
            assert alerts, "a claimed payload gave no alerts"
            for alert in alerts:
                check_alert(alert)
            outcomes["parsed"] += 1
    assert outcomes["parsed"] > 0 and outcomes["refused"] > 0
