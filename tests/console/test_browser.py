"""The console in a real browser: Debian's Chromium driven by Playwright against a real server.

The flow of issue 18: sign in, a freshly ingested critical incident appears on Now without a
reload, open it, read its analysis and its delivery, acknowledge it and see the timeline name
who did, dry-run a definition; silence the incident's host from the silence form (a bad matcher
first, then a preview), see Now mark the incident silenced, expire the silence and see the mark
go; no page logs a console error. Screenshots of every page go to
var/screenshots/ (docs/console.md shows them).
"""

import json
import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from apps.alerts.models import InhibitionRule
from apps.common.models import ApiKey
from apps.orchestration.models import PipelineDefinition

from .conftest import PASSWORD, user_in

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not shutil.which("chromium"),
        reason="Debian's chromium is not installed (apt-get install chromium)",
    ),
]


def post_alert(base: str, key: str, payload: dict) -> int:
    request = urllib.request.Request(
        f"{base}/api/alerts/generic/",
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback only
        return response.status


def launch(playwright):
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    return playwright.chromium.launch(executable_path=executable, args=ARGS)


def reload_until(page, check, timeout_s: float = 20.0) -> None:
    """The run behind an incident finishes in the server's background thread: look again."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting on {page.url}"
        time.sleep(0.3)
        page.reload()


def test_operator_flow_in_a_real_browser(console_server, settings):
    settings.CONSOLE_REFRESH_S = 0.5
    settings.INGEST_START_RUNS = True
    settings.PIPELINE_RUNNER = "thread"  # the test's server runs them (no run_worker here)
    user_in("console-operators", "olga")
    key = ApiKey.create_key("browser-test", ["ingest"])[1]
    PipelineDefinition.objects.create(
        name="page-oncall",
        description="Page whoever is on call",
        config={
            "version": "1",
            "nodes": [
                {
                    "id": "notify",
                    "type": "notify",
                    "config": {"driver": "console", "title": "{{ payload.alerts[0].name }}"},
                }
            ],
        },
    )
    InhibitionRule.objects.create(
        name="host-down",
        source_matchers=["alertname=HostDown"],
        target_matchers=["alertname!=HostDown"],
        equal=["host"],
        comment="a dead host explains its other alerts",
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    # Playwright's sync API runs an event loop in this thread, where the ORM refuses to run:
    # everything stored is stored above, before it starts.
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            browse(console_server, browser, key)
        finally:
            browser.close()


def browse(console_server: str, browser, key: str) -> None:
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # Sign in: the console sends strangers to the login page first.
    page.goto(console_server + "/")
    assert "/login/" in page.url
    page.fill("input[name=username]", "olga")
    page.fill("input[name=password]", PASSWORD)
    page.screenshot(path=str(SHOTS / "login.png"))
    page.click("button[type=submit]")
    page.wait_for_selector("#now-body")
    assert page.locator("li.incident").count() == 0

    # A critical alert arrives through the webhook; Now shows it without a reload.
    payload = {
        "alerts": [
            {"name": "DiskFull", "host": "db-07", "status": "firing", "severity": "critical",
             "description": "/var is 99% full"}
        ]
    }  # fmt: skip
    assert post_alert(console_server, key, payload) == 202
    page.wait_for_selector("li.incident.sev-critical", timeout=15_000)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert "1 critical" in page.title()
    page.screenshot(path=str(SHOTS / "now.png"), full_page=True)

    # Open it: the analysis and the delivery of its run.
    page.click("li.incident a.title")
    page.wait_for_selector("#analysis")
    reload_until(page, lambda: page.locator("#deliveries tr.delivery").count() > 0)
    assert "DiskFull" in page.inner_text("h1")
    assert page.locator("#analysis .summary-full").inner_text().strip()
    assert "succeeded" in page.inner_text("#deliveries")

    # Acknowledge: the status changes and the timeline says who did it, from the web.
    page.fill("form:has(#ack) input[name=comment]", "looking at the disk")
    page.click("#ack")
    page.wait_for_selector("#incident-status.st-acknowledged")
    timeline = page.inner_text("#timeline")
    assert "acknowledged by olga (web): looking at the disk" in timeline
    page.screenshot(path=str(SHOTS / "incident.png"), full_page=True)

    # The run page draws the graph with each node coloured by status.
    page.click("#timeline a[href*='/runs/']")
    page.wait_for_selector("svg.pipeline-graph")
    assert page.locator("g.node[data-status=SUCCEEDED]").count() >= 1
    page.screenshot(path=str(SHOTS / "run.png"), full_page=True)

    # Dry-run a definition against a pasted payload: the message it would send, unsent.
    page.goto(console_server + "/definitions")
    page.screenshot(path=str(SHOTS / "definitions.png"), full_page=True)
    page.click("a[href='/definitions/page-oncall']")
    page.fill("textarea[name=payload]", json.dumps({"alerts": [{"name": "DryDisk"}]}))
    page.click("#dry-run-button")
    page.wait_for_selector("#dry-run-result")
    assert "DryDisk" in page.inner_text("#dry-run-result")
    page.screenshot(path=str(SHOTS / "definition.png"), full_page=True)

    page.goto(console_server + "/hosts")
    page.screenshot(path=str(SHOTS / "hosts.png"), full_page=True)

    silence_the_host(console_server, page)

    # Phone width: the Now page still reads without sideways scrolling.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.add_cookies(context.cookies())
    mobile = phone.new_page()
    mobile.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    mobile.goto(console_server + "/?status=all")
    mobile.wait_for_selector("li.incident")
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
    mobile.screenshot(path=str(SHOTS / "now-phone.png"), full_page=True)

    assert errors == []


def silence_the_host(console_server: str, page) -> None:
    """From the incident page to a silence of its host, the mark on Now, and expiring it."""
    page.goto(console_server + "/")
    page.click("li.incident a.title")
    page.click("#silence-custom")
    page.wait_for_selector("#silence-preview")
    assert page.input_value("input[name=matchers]") == 'host="db-07"'
    assert "DiskFull" in page.inner_text("#silence-preview")

    page.fill("input[name=matchers]", 'host=~"db-(07"')
    page.fill("input[name=duration]", "1h")
    page.fill("input[name=comment]", "swapping the disk of db-07")
    page.click("#preview-button")
    error = page.inner_text("#silence-error")
    assert "invalid regular expression" in error and "\n" not in error.strip()

    page.fill("input[name=matchers]", 'host="db-07"')
    page.click("#preview-button")
    page.wait_for_selector("#silence-preview")
    assert "It would silence 1 firing alert(s)" in page.inner_text("#silence-preview")
    page.screenshot(path=str(SHOTS / "silence-new.png"), full_page=True)
    page.click("#save-silence")
    page.wait_for_selector("#silence-state")
    assert page.inner_text("#silence-state") == "active"
    assert "created by olga" in page.inner_text("main")
    assert "silenced by silence #" in page.inner_text("#silenced-incidents")
    silence_url = page.url
    page.screenshot(path=str(SHOTS / "silence.png"), full_page=True)

    # Now marks the incident silenced (the refreshing fragment carries the mark).
    page.goto(console_server + "/")
    page.wait_for_selector("li.incident .mark.sil")
    page.screenshot(path=str(SHOTS / "now-silenced.png"), full_page=True)
    page.goto(console_server + "/silences")
    assert page.locator("#active tr.silence").count() == 1
    page.screenshot(path=str(SHOTS / "silences.png"), full_page=True)
    page.click("#toggle-ended")
    page.wait_for_selector("#ended")
    page.goto(console_server + "/inhibitions")
    assert "host-down" in page.inner_text("table.rules")
    page.screenshot(path=str(SHOTS / "inhibitions.png"), full_page=True)

    # Expire it: the silence says who, and the mark leaves Now without a reload.
    page.goto(silence_url)
    page.click("#expire")
    page.wait_for_selector("#silence-state:text('expired')")
    assert "expired by olga" in page.inner_text("main")
    page.goto(console_server + "/")
    page.wait_for_selector("li.incident")
    assert page.locator("li.incident .mark.sil").count() == 0


def test_a_very_long_alert_name_does_not_widen_pages_at_phone_width(console_server):
    """A 5000-character word in an alert name (and a host with "/") wraps on a 375 px screen."""
    from apps.alerts.services import ingest
    from apps.hosts.models import Host
    from apps.intelligence.models import AnalysisRun

    user_in("console-viewers", "vera")
    long_name = "X" * 5000
    incident = ingest(
        {"alerts": [{"name": long_name, "host": "eu-west/db-01", "severity": "critical"}]},
        "generic",
    ).incident
    Host.objects.create(name="eu-west/db-01")
    AnalysisRun.objects.create(provider="local", requested_provider="local", status="succeeded",
                               incident=incident, output={"summary": f"{long_name} is firing"})  # fmt: skip
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            phone = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True)
            page = phone.new_page()
            page.goto(console_server + "/login/")
            page.fill("input[name=username]", "vera")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("#now-body")
            for path in ("/?status=all", f"/incidents/{incident.pk}", "/hosts/eu-west/db-01"):
                response = page.goto(console_server + path)
                assert response is not None and response.status == 200, path
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= 375, f"{path} is {width} px wide"
        finally:
            browser.close()
