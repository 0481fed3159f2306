"""Host facts from a real Prometheus scraping a real node_exporter, both on loopback.

The node_exporter is this machine, so its readings must agree with psutil here. The same
exporter is also scraped as a "fleet" with made-up instance labels (web-07:9100,
[2001:db8::7]:9100, db-1.example.com:9100) to exercise the instance matching.
"""

import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlencode

import psutil
import pytest

from apps.common.http import OutboundBlocked, check_destination
from apps.hosts.prometheus import FILLED, IGNORED_FSTYPES, fetch_readings

NODE_EXPORTER = Path("/usr/bin/prometheus-node-exporter")
PROMETHEUS = Path("/usr/bin/prometheus")
FLEET = ["web-07:9100", "[2001:db8::7]:9100", "db-1.example.com:9100"]


@dataclass
class Servers:
    url: str
    node_instance: str
    nodename: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _api(url: str, query: str) -> list:
    with urllib.request.urlopen(
        f"{url}/api/v1/query?{urlencode({'query': query})}", timeout=2
    ) as r:
        return json.load(r)["data"]["result"]


def _start_prometheus(tmp: Path, node_port: int) -> tuple[subprocess.Popen, str]:
    fleet = [{"targets": [f"127.0.0.1:{node_port}"], "labels": {"instance": i}} for i in FLEET]
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {"job_name": "node", "static_configs": [{"targets": [f"127.0.0.1:{node_port}"]}]},
            {"job_name": "fleet", "scrape_interval": "2s", "static_configs": fleet},
        ],
    }
    (tmp / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    port = _free_port()
    process = subprocess.Popen(
        [
            str(PROMETHEUS),
            f"--config.file={tmp / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "prometheus.log").open("w"),
    )
    return process, f"http://127.0.0.1:{port}"


def _wait_for(check, what: str, timeout_s: float = 60.0) -> None:
    stop = time.monotonic() + timeout_s
    while time.monotonic() < stop:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"gave up after {timeout_s:g} s waiting for {what}")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory) -> Iterator[Servers]:
    for binary in (NODE_EXPORTER, PROMETHEUS):
        if not binary.exists():
            pytest.skip(f"{binary} is not installed (Debian: prometheus, prometheus-node-exporter)")
    tmp = tmp_path_factory.mktemp("prometheus")
    node_port = _free_port()
    node = subprocess.Popen(
        [str(NODE_EXPORTER), f"--web.listen-address=127.0.0.1:{node_port}"],
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "node_exporter.log").open("w"),
    )
    prom, url = _start_prometheus(tmp, node_port)
    try:
        # Every target scraped at least 3 times: rates over the window need 2 samples.
        def scraped() -> bool:
            counts = _api(url, "count_over_time(up[1m]) >= 3")
            return len(counts) == 1 + len(FLEET)

        _wait_for(scraped, "the first scrapes of node_exporter")
        uname = _api(url, 'node_uname_info{job="node"}')[0]["metric"]
        yield Servers(url, f"127.0.0.1:{node_port}", uname["nodename"])
    finally:
        _stop(prom)
        _stop(node)


def _one_line(reason: str) -> bool:
    return bool(reason) and "\n" not in reason and "Traceback" not in reason


def test_readings_agree_with_psutil_here(prometheus):
    result = fetch_readings(prometheus.url, "127.0.0.1")
    assert result.reason == ""
    assert (result.instance, result.job) == (prometheus.node_instance, "node")
    assert set(FILLED) <= set(result.readings)
    assert result.queries <= 10
    assert result.observed_at is not None
    assert abs(result.observed_at.timestamp() - time.time()) < 10

    memory = psutil.virtual_memory()
    assert abs(result.readings["memory"]["percent"] - memory.percent) <= 5
    assert result.readings["memory"]["total_bytes"] == memory.total

    uptime_s = time.time() - psutil.boot_time()
    assert abs(result.readings["uptime"]["uptime_s"] - uptime_s) <= 60

    cores = psutil.cpu_count()
    load = result.readings["load"]
    assert load["cpu_count"] == cores and load["period_min"] == 5
    assert abs(load["per_core"] - psutil.getloadavg()[1] / cores) <= 1.0

    cpu = result.readings["cpu"]
    assert 0 <= cpu["percent"] <= 100 and cpu["cpu_count"] == cores

    assert result.readings["swap"]["total_bytes"] == psutil.swap_memory().total

    root = next(p for p in psutil.disk_partitions(all=True) if p.mountpoint == "/")
    paths = result.readings["disk"]["paths"]
    if re.fullmatch(IGNORED_FSTYPES, root.fstype):  # e.g. overlay in a container
        assert "/" not in paths
    else:
        assert abs(paths["/"]["percent"] - psutil.disk_usage("/").percent) <= 2
        assert set(paths["/"]) == {
            "percent",
            "total_bytes",
            "used_bytes",
            "free_bytes",
            "inodes_percent",
            "max_percent",
        }
    assert not any(
        re.fullmatch(IGNORED_FSTYPES, p.fstype)
        for p in psutil.disk_partitions()
        if p.mountpoint in paths and p.mountpoint != "/"
    )
    assert set(result.extras["network_errors"]) >= {"receive_errs_total", "transmit_errs_total"}


def test_found_by_nodename_from_node_uname_info(prometheus):
    assert prometheus.nodename == os.uname().nodename
    result = fetch_readings(prometheus.url, prometheus.nodename)
    # All four targets share the nodename: the first is read, the others are named.
    assert result.instance == prometheus.node_instance
    assert result.extras["uname"]["nodename"] == prometheus.nodename
    assert result.extras["other_instances"] == sorted(FLEET)
    assert set(FILLED) <= set(result.readings)


@pytest.mark.parametrize(
    "host, instance",
    [
        ("web-07", "web-07:9100"),
        ("WEB-07", "web-07:9100"),
        ("2001:db8::7", "[2001:db8::7]:9100"),
        ("[2001:DB8:0:0::7]", "[2001:db8::7]:9100"),
        ("db-1.example.com", "db-1.example.com:9100"),
        ("db-1.example.com.", "db-1.example.com:9100"),
        ("db-1", "db-1.example.com:9100"),  # a short name finds its FQDN
    ],
)
def test_instance_label_with_port_ipv6_and_domain(prometheus, host, instance):
    result = fetch_readings(prometheus.url, host)
    assert (result.instance, result.job) == (instance, "fleet")
    assert result.readings["memory"]["total_bytes"] == psutil.virtual_memory().total


@pytest.mark.parametrize("host", ["no-such-host-42", "db-1xexample.com", "web-0", "eb-07", "::7"])
def test_unknown_host_gives_no_readings_and_a_reason(prometheus, host):
    result = fetch_readings(prometheus.url, host)
    assert result.readings == {} and result.instance == ""
    assert _one_line(result.reason)
    assert result.reason.startswith(f"Prometheus at {prometheus.url}: no node_exporter series")
    assert f"for {host} (tried instance " in result.reason
    assert result.queries == 1


@pytest.mark.parametrize("host", ['web-07"} or vector(1)', "web 07", "", "a\nb", "[web-07]"])
def test_text_that_is_no_host_is_not_sent(prometheus, host):
    result = fetch_readings(prometheus.url, host)
    assert result.queries == 0 and result.readings == {}
    assert _one_line(result.reason) and "is not a host name or IP address" in result.reason


def test_stopped_prometheus_gives_a_connection_reason(tmp_path):
    if not PROMETHEUS.exists():
        pytest.skip(f"{PROMETHEUS} is not installed (Debian: prometheus)")
    process, url = _start_prometheus(tmp_path, _free_port())
    try:
        _wait_for(lambda: urllib.request.urlopen(f"{url}/-/ready", timeout=1), "Prometheus ready")
    finally:
        _stop(process)
    started = time.monotonic()
    result = fetch_readings(url, "web-07", timeout_s=2)
    assert time.monotonic() - started < 2
    assert result.readings == {} and _one_line(result.reason)
    assert result.reason.startswith(f"Prometheus at {url}: cannot connect: ")


def test_deadline_already_passed_sends_nothing(prometheus):
    result = fetch_readings(prometheus.url, "127.0.0.1", deadline=time.monotonic() - 1)
    assert result.queries == 0 and result.readings == {}
    assert result.reason == f"Prometheus at {prometheus.url}: deadline reached"


def test_deadline_bounds_a_slow_answer(http_sink):
    http_sink.delay_s = 3
    http_sink.respond(200, '{"status": "success", "data": {"result": []}}')
    started = time.monotonic()
    result = fetch_readings(http_sink.url, "web-07", deadline=started + 0.4)
    assert time.monotonic() - started < 1.0
    assert result.reason.startswith(f"Prometheus at {http_sink.url}: deadline reached waiting 0.")
    started = time.monotonic()
    result = fetch_readings(http_sink.url, "web-07", timeout_s=0.3)
    assert time.monotonic() - started < 1.0
    assert result.reason == f"Prometheus at {http_sink.url}: no answer within 0.30 s"


@pytest.fixture
def slow_disk_proxy(prometheus) -> Iterator[str]:
    """Loopback proxy to the real Prometheus that holds back the filesystem query for 5 s."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if "node_filesystem" in unquote(self.path):
                threading.Event().wait(5)
            try:
                with urllib.request.urlopen(prometheus.url + self.path, timeout=5) as answer:
                    body = answer.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up first

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_deadline_mid_way_returns_partial_readings(slow_disk_proxy):
    started = time.monotonic()
    result = fetch_readings(slow_disk_proxy, "127.0.0.1", deadline=started + 1.5)
    assert time.monotonic() - started < 2.0
    assert {"cpu", "memory", "swap", "load", "uptime"} <= set(result.readings)
    assert "disk" not in result.readings
    assert _one_line(result.reason)
    assert "disk query: deadline reached waiting" in result.reason
    assert result.reason.endswith("; partial readings, missing disk")
    assert result.queries == 3


def test_evaluated_at_the_alert_start_when_prometheus_has_it(prometheus):
    at = datetime.now(UTC) - timedelta(seconds=2)
    result = fetch_readings(prometheus.url, "127.0.0.1", at=at)
    assert result.observed_at is not None
    assert abs((result.observed_at - at).total_seconds()) < 0.002
    assert set(FILLED) <= set(result.readings) and result.queries == 3


@pytest.mark.parametrize(
    "age, queries",
    [
        (timedelta(days=1), 5),  # within 15d retention, but nothing then: asked again at now
        (timedelta(days=30), 4),  # beyond the retention: asked at now straight away
    ],
)
def test_alert_start_without_data_falls_back_to_now(prometheus, age, queries):
    result = fetch_readings(prometheus.url, "127.0.0.1", at=datetime.now(UTC) - age)
    assert result.observed_at is not None
    assert abs(result.observed_at.timestamp() - time.time()) < 10
    assert set(FILLED) <= set(result.readings)
    assert result.queries == queries


@pytest.mark.parametrize(
    "status, body, expected",
    [
        (404, "404 page not found", "HTTP 404, not a Prometheus API answer"),
        (
            400,
            '{"status":"error","errorType":"bad_data","error":"parse\\nerror"}',
            "HTTP 400: parse error",
        ),
        (200, "<html>login</html>", "HTTP 200, not a Prometheus API answer"),
    ],
)
def test_http_answers_that_are_no_results(http_sink, status, body, expected):
    http_sink.respond(status, body)
    result = fetch_readings(http_sink.url, "web-07")
    assert result.reason == f"Prometheus at {http_sink.url}: {expected}"
    assert result.readings == {} and result.queries == 1


def test_not_configured():
    result = fetch_readings("  ", "web-07")
    assert result.reason == "Prometheus is not configured (PROMETHEUS_URL is empty)"
    assert result.queries == 0


def test_credentials_in_the_url_stay_out_of_reasons():
    result = fetch_readings("http://user:secret@127.0.0.1:9", "web-07", timeout_s=1)
    assert "secret" not in result.reason
    assert result.reason.startswith("Prometheus at http://127.0.0.1:9: cannot connect")


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[fd00:ec2::254]/",
    ],
)
def test_metadata_addresses_stay_refused_for_operator_destinations(settings, url):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    with pytest.raises(OutboundBlocked, match="always blocked"):
        check_destination(url, allow_private=True)
    result = fetch_readings(url.rsplit("/", 1)[0], "web-07")
    assert result.queries == 0 and "always blocked" in result.reason


def test_operator_destinations_may_be_private(settings):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    for url in ("http://127.0.0.1:9090/", "http://10.0.0.5/", "http://[::ffff:10.0.0.5]/"):
        check_destination(url, allow_private=True)
        with pytest.raises(OutboundBlocked, match="OUTBOUND_ALLOW_PRIVATE"):
            check_destination(url)


def test_loopback_timing(prometheus):
    fetch_readings(prometheus.url, "127.0.0.1")  # first call: imports and the TLS context
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        result = fetch_readings(prometheus.url, "127.0.0.1")
        timings.append(time.perf_counter() - started)
        assert result.reason == ""
    assert min(timings) < 1.0, timings  # loose for busy CI machines; ~20-80 ms on loopback


@pytest.mark.django_db
def test_an_alert_about_a_node_exporter_instance_gets_context_from_prometheus(prometheus, settings):
    """The web-07 case end to end: the webhook, the run, its context node, graded here."""
    import time as clock

    from django.test import Client

    from apps.common.models import ApiKey
    from apps.orchestration.models import PipelineDefinition, PipelineRun
    from apps.orchestration.services import execute_run

    settings.HOST_NAME, settings.HOST_ALIASES = "hub-1", []
    settings.PROMETHEUS_URL = prometheus.url
    settings.INGEST_START_RUNS, settings.CELERY_BROKER_URL = True, ""
    definition = {
        "version": "1",
        "nodes": [
            {"id": "ingest", "type": "ingest", "next": "metrics"},
            {
                "id": "metrics",
                "type": "context",
                "config": {"include": ["memory", "disk", "uptime"]},
            },
        ],
    }
    PipelineDefinition.objects.create(name="t", config=definition, match={"source": "generic"})
    key = ApiKey.create_key("hub", ["ingest"])[1]
    body = {"name": "DiskFull", "status": "firing", "severity": "critical", "host": "web-07:9100"}
    response = Client().post(
        "/api/alerts/generic/", data=json.dumps(body), content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )  # fmt: skip
    (run_id,) = response.json()["runs"]
    PipelineRun.objects.filter(pk=run_id).update(status="PENDING")
    started = clock.perf_counter()
    execute_run(run_id)
    elapsed = clock.perf_counter() - started
    output = PipelineRun.objects.get(pk=run_id).stages.get(node_id="metrics").output
    assert (output["host"], output["source"], output["available"]) == ("web-07", "prometheus", True)
    assert output["prometheus"]["instance"] == "web-07:9100"
    memory = output["checks"]["memory"]
    assert abs(memory["metrics"]["percent"] - psutil.virtual_memory().percent) < 5
    assert memory["message"].startswith("memory ")  # the memory check's own wording
    assert output["checks"]["disk"]["status"] in ("ok", "warning", "critical")
    assert elapsed < 5
