"""apps.common.matchers against the real `amtool` (Debian's prometheus-alertmanager).

amtool works offline here: `amtool check-config` parses a configuration whose routes carry the
matchers (parse errors included), and `amtool config routes test` says which routes a label set
reaches. Each valid matcher string is one route with `continue: true`, so one amtool call per
label set tells which of them match; our parser must accept and refuse the same strings and
match the same label sets.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from apps.common.matchers import MatcherError, matches_all, parse_matchers

AMTOOL = shutil.which("amtool") or "/usr/bin/amtool"
pytestmark = pytest.mark.skipif(
    not Path(AMTOOL).exists(),
    reason="amtool is not installed (apt-get install prometheus-alertmanager)",
)

VALID = [
    "alertname=DiskFull",
    'alertname=DiskFull,host=~"web-0[1-7]"',
    '{alertname="DiskFull", host=~"web-0[1-7]"}',
    "host=~web-0[1-7]",
    "host!~web-.*",
    "severity!=critical",
    'severity=""',
    "team!=",
    "  host  =  web-07  ",
    'job=~"node|prometheus"',
    'path=~"/var/.+"',
    'msg="a, b"',
    r'msg="say \"hi\""',
    r'msg="back\\slash"',
    r"msg=back\slash",
    'host=~"(?i)WEB-07"',
    'host=~"web-\\d+"',
    "host=~.*",
    "host!~.+",
    "instance=~[a-z]+:9100",
    "alertname=HostDown,host=web-07,",
    'note="x=y"',
    "a:b_c=1",
    "_x=~a|b",
    'host=~"web-0[1-3]|db-.*"',
    "value=é",
    "host==x",
    'host=~"\\w+-\\d{2}"',
]
INVALID = [
    "=x",
    "host",
    "1host=x",
    "host=~(",
    'host=~"(a)\\1"',
    'host=~"(?=web)web"',
    'host=~"web(?!-08)"',
    'msg="unterminated',
    'msg=a"b',
    "a=b,,c=d",
    "host<>x",
]
LABEL_SETS = [
    {"alertname": "DiskFull", "host": "web-03"},
    {"alertname": "DiskFull", "host": "web-08"},
    {"alertname": "HostDown", "host": "web-07"},
    {"alertname": "HostDown", "host": "WEB-07", "severity": "critical"},
    {"host": "db-1", "severity": "warning", "team": "ops", "job": "node"},
    {"msg": "a, b", "path": "/var/log", "instance": "web:9100"},
    {"msg": 'say "hi"', "note": "x=y", "a:b_c": "1", "_x": "b"},
    {"msg": "back\\slash", "value": "é", "host": "web-12"},
    {},
]


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _amtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([AMTOOL, *args], capture_output=True, text=True, timeout=30, check=False)


def _config(path: Path, matcher_strings: list[str]) -> Path:
    routes = [
        {"receiver": f"r{i}", "continue": True, "matchers": [text]}
        for i, text in enumerate(matcher_strings)
    ]
    receivers = [{"name": "none"}] + [{"name": f"r{i}"} for i in range(len(matcher_strings))]
    config = {"route": {"receiver": "none", "routes": routes}, "receivers": receivers}
    path.write_text(json.dumps(config))
    return path


@pytest.mark.parametrize("text", INVALID)
def test_amtool_and_we_refuse_the_same_strings(tmp_path, text):
    checked = _amtool("check-config", str(_config(tmp_path / "c.json", [text])))
    assert checked.returncode != 0, f"amtool accepted {text!r}: {checked.stdout}"
    with pytest.raises(MatcherError) as raised:
        parse_matchers(text)
    assert "\n" not in str(raised.value)


def test_amtool_accepts_every_valid_string(tmp_path):
    checked = _amtool("check-config", str(_config(tmp_path / "c.json", VALID)))
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("labels", LABEL_SETS, ids=lambda labels: ",".join(labels) or "none")
def test_the_same_label_sets_match_the_same_matchers(tmp_path, labels):
    config = _config(tmp_path / "c.json", VALID)
    args = [f"{name}={_quoted(value)}" for name, value in labels.items()]
    tested = _amtool("config", "routes", "test", f"--config.file={config}", *args)
    assert tested.returncode == 0, tested.stderr
    theirs = {name for name in tested.stdout.strip().split(",") if name != "none"}
    ours = {f"r{i}" for i, text in enumerate(VALID) if matches_all(parse_matchers(text), labels)}
    assert ours == theirs, {
        "only amtool": [VALID[int(r[1:])] for r in theirs - ours],
        "only ours": [VALID[int(r[1:])] for r in ours - theirs],
    }
    assert ours, "every label set here should match at least one matcher (host=~.* does)"


def test_matcher_round_trips_through_its_string():
    for text in VALID:
        matchers = parse_matchers(text)
        again = parse_matchers(",".join(str(m) for m in matchers))
        assert again == matchers, text
