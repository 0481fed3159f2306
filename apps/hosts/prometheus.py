"""Host facts from Prometheus: one host's node_exporter series, in the checks' reading keys.

fetch_readings() finds the host's target (its `instance` label with or without a port, or
`nodename` from node_uname_info), then reads in two batched instant queries, evaluated at the
alert's start while Prometheus still holds it, else now. Requests go through apps.common.http;
the base URL must be operator configuration (PROMETHEUS_URL), so private addresses pass.

Filled: cpu, memory, swap, load, uptime, disk. Not network and process: those probe targets
and list processes from where the check runs. Interface errors and uname go to extras.
"""

import ipaddress
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apps.common.http import OutboundBlocked, request

WINDOW = "5m"  # CPU busy and interface errors are averaged / summed over this window
WINDOW_S = 300.0
RECENT_S = 3600.0  # an alert start older than this is first checked against the retention
MIN_LEFT_S = 0.05  # with less time than this left before the deadline no query is started
SWAP_PAGE_BYTES = 4096  # /proc/vmstat pswpin/pswpout count 4 KiB pages (psutil assumes so too)
# Filesystems that are no disks: memory, images, container layers, kernel views.
IGNORED_FSTYPES = (
    "tmpfs|ramfs|devtmpfs|overlay|aufs|squashfs|nsfs|fuse\\.lxcfs|iso9660|udf|autofs|proc|sysfs|"
    "cgroup2?|devpts|mqueue|tracefs|debugfs|securityfs|pstore|bpf|configfs|binfmt_misc|efivarfs"
)
FILLED = ("cpu", "memory", "swap", "load", "uptime", "disk")
NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}")
PORT = "(:[0-9]+)?"
DURATION_UNITS = {"y": 31536000, "w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 1e-3}

Rows = list[tuple[dict[str, str], float]]
Tiers = list[tuple[str, str, str]]  # (label, regex, what it tries), best match first


@dataclass
class PromResult:
    """What Prometheus knew about one host. reason is '' when all six checks got readings."""

    readings: dict[str, dict[str, Any]] = field(default_factory=dict)  # check -> readings
    instance: str = ""  # the matched `instance` label
    job: str = ""  # and its `job` label (a target scraped by two jobs is read from one)
    observed_at: datetime | None = None  # the evaluation time of the queries
    reason: str = ""  # one line: why nothing (or not everything) was found
    queries: int = 0  # requests sent to Prometheus
    extras: dict[str, Any] = field(default_factory=dict)  # uname, network_errors, ...


class _Stop(Exception):
    """No answer; str() is the one-line reason. Not fatal: asking something else may work."""

    def __init__(self, reason: str, fatal: bool = True) -> None:
        super().__init__(reason)
        self.fatal = fatal


def _line(text: object, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _quote(text: str) -> str:
    """A PromQL double-quoted string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Prometheus:
    """One Prometheus HTTP API: counts requests and keeps every one within the deadline."""

    def __init__(self, base: str, shown: str, timeout_s: float, deadline: float | None) -> None:
        self.base, self.shown, self.timeout_s, self.deadline = base, shown, timeout_s, deadline
        self.sent = 0

    def get(self, path: str, params: dict[str, str]) -> Any:
        import httpx

        budget = self.timeout_s
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left < MIN_LEFT_S:
                raise _Stop("deadline reached")
            budget = min(budget, left)
        if path.endswith("/query"):  # Prometheus stops evaluating when the client gives up
            params = {**params, "timeout": f"{budget:.3f}"}
        self.sent += 1
        try:
            url = self.base + path
            response = request("GET", url, params=params, timeout=budget, allow_private=True)
        except OutboundBlocked as exc:
            self.sent -= 1  # refused before anything was sent
            raise _Stop(_line(exc)) from None
        except httpx.TimeoutException:
            cut = "deadline reached waiting" if budget < self.timeout_s else "no answer within"
            raise _Stop(f"{cut} {budget:.2f} s") from None
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            what = "cannot connect" if isinstance(exc, httpx.ConnectError) else type(exc).__name__
            raise _Stop(f"{what}: {_line(exc) or 'no details'}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        code = response.status_code
        if code == 200 and isinstance(body, dict) and body.get("status") == "success":
            return body.get("data")
        if isinstance(body, dict) and body.get("error"):
            raise _Stop(f"HTTP {code}: {_line(body['error'])}", fatal=False)
        raise _Stop(f"HTTP {code}, not a Prometheus API answer", fatal=False)

    def query(self, promql: str, at: float) -> Rows:
        data = self.get("/api/v1/query", {"query": promql, "time": f"{at:.3f}"})
        result = data.get("result") if isinstance(data, dict) else None
        if not isinstance(result, list):
            raise _Stop("query answer has no result list", fatal=False)
        rows: Rows = []
        for row in result:
            try:
                labels, value = row["metric"], float(row["value"][1])
            except (KeyError, IndexError, TypeError, ValueError):
                continue
            if isinstance(labels, dict) and math.isfinite(value):
                rows.append((labels, value))
        return rows


def fetch_readings(
    base_url: str,
    host: str,
    *,
    at: datetime | None = None,
    timeout_s: float = 5.0,
    deadline: float | None = None,
) -> PromResult:
    """Readings for `host` (a bare name or an IP address) from node_exporter series.

    at: the alert's start; used as evaluation time while Prometheus still has data then.
    timeout_s bounds each request; deadline (a time.monotonic() value) bounds them all: when it
    passes, the readings so far are returned with a reason. Never raises for bad input or
    failures: they end up in `reason`.
    """
    result = PromResult()
    base = base_url.strip().rstrip("/")
    shown = _line(re.sub(r"//[^/@]*@", "//", base), 120)  # no user:password@ in reasons
    tiers = _tiers(host)
    if not base:
        result.reason = "Prometheus is not configured (PROMETHEUS_URL is empty)"
    elif tiers is None:
        result.reason = f"host {_line(repr(host), 80)} is not a host name or IP address"
    else:
        prom = _Prometheus(base, shown, timeout_s, deadline)
        problems = _fetch(prom, host.strip(), tiers, at, result)
        result.queries = prom.sent
        if problems:
            result.reason = f"Prometheus at {shown}: " + "; ".join(problems)
    return result


def _fetch(
    prom: _Prometheus, host: str, tiers: Tiers, at: datetime | None, result: PromResult
) -> list[str]:
    """Fill result; return the problems (none when all went well)."""
    now = time.time()
    try:
        when = _evaluation_time(prom, at, now)
        rows = prom.query(_resolve_query(tiers), when)
        if not rows and when != now:  # nothing kept from then: what it looks like now
            when = now
            rows = prom.query(_resolve_query(tiers), when)
    except _Stop as stop:
        return [str(stop)]
    if not _choose(rows, tiers, result):
        tried = ", ".join(what for _, _, what in tiers)
        return [f"no node_exporter series for {host} (tried {tried})"]
    result.observed_at = datetime.fromtimestamp(when, UTC)
    selector = f"instance={_quote(result.instance)},job={_quote(result.job)}"
    problems: list[str] = []
    for index, (part, expressions, fill) in enumerate(PARTS):
        try:
            fill(prom.query(_batch(expressions, selector), when), when, result)
        except _Stop as stop:
            problems.append(f"{part} query: {stop}")
            if stop.fatal:
                unasked = ", ".join(name for name, _, _ in PARTS[index + 1 :])
                problems[-1] += f" (not asked: {unasked})" if unasked else ""
                break
    missing = ", ".join(check for check in FILLED if check not in result.readings)
    if missing:
        lacks = "partial readings, missing" if problems else f"{result.instance} has no series for"
        problems.append(f"{lacks} {missing}")
    return problems


def _evaluation_time(prom: _Prometheus, at: datetime | None, now: float) -> float:
    if at is None:
        return now
    wanted = (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()
    if now - wanted < RECENT_S:
        return min(wanted, now)
    try:  # older: is it within storage.tsdb.retention.time? ("15d", "15d or 10GiB", "10GiB")
        data = prom.get("/api/v1/status/runtimeinfo", {})
    except _Stop as stop:
        if stop.fatal:
            raise
        return wanted  # not Prometheus itself, perhaps: ask, and fall back to now if empty
    text = str(data.get("storageRetention", "")) if isinstance(data, dict) else ""
    text = text.split(" or ")[0].strip()
    if not re.fullmatch(r"(?:[0-9]+(?:ms|[ywdhms]))+", text):  # size-only: unknown
        return wanted
    kept = sum(int(n) * DURATION_UNITS[u] for n, u in re.findall(r"([0-9]+)(ms|[ywdhms])", text))
    return now if now - wanted > kept else wanted


def _tiers(host: str) -> Tiers | None:
    """How to find the host's target, best match first; None when host is no host."""
    text = host.strip()
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        ip = ipaddress.ip_address(inner)
    except ValueError:
        ip = None
    if ip is not None:
        shown = f"[{ip.compressed}]" if ip.version == 6 else ip.compressed
        return [("instance", re.escape(shown) + PORT, f"instance {shown}, {shown}:<port>")]
    name = text.rstrip(".")
    if inner != text or not NAME_RE.fullmatch(name):
        return None
    # Looser: for an FQDN its short name (as nodename often is), for a short name its FQDNs.
    short = name.split(".")[0]
    loose, shown, domain = (short, short, "") if "." in name else (name, f"{name}.*", r"\.[^:]+")
    return [
        ("instance", re.escape(name) + PORT, f"instance {name}, {name}:<port>"),
        ("nodename", re.escape(name), f"nodename {name}"),
        ("instance", re.escape(loose) + domain + PORT, f"instance {shown}[:<port>]"),
        ("nodename", re.escape(loose) + domain.replace("[^:]", "."), f"nodename {shown}"),
    ]


def _resolve_query(tiers: Tiers) -> str:
    """node_exporter series of every candidate target: by instance, or by nodename."""

    def matcher(label: str) -> str:
        alternatives = "|".join(regex for on, regex, _ in tiers if on == label)
        return f"{label}=~{_quote(f'(?i)(?:{alternatives})')}"

    query = f"node_uname_info{{{matcher('instance')}}}"
    query += f" or node_boot_time_seconds{{{matcher('instance')}}}"  # no uname collector
    if any(on == "nodename" for on, _, _ in tiers):
        query += f" or node_uname_info{{{matcher('nodename')}}}"
    return query


def _choose(rows: Rows, tiers: Tiers, result: PromResult) -> bool:
    """The best matching (instance, job) into result; other matches are listed in extras."""
    found: list[tuple[int, str, str, dict[str, str]]] = []
    for labels, _ in rows:
        for rank, (on, regex, _) in enumerate(tiers):
            if re.fullmatch(regex, labels.get(on, ""), re.IGNORECASE):
                found.append((rank, labels.get("instance", ""), labels.get("job", ""), labels))
                break
    if not found:
        return False
    found.sort(key=lambda item: (item[0], item[1], item[2], "nodename" not in item[3]))
    _, result.instance, result.job, labels = found[0]
    uname = ("nodename", "release", "machine", "sysname")
    result.extras["uname"] = {key: labels[key] for key in uname if key in labels}
    result.extras["other_instances"] = sorted({item[1] for item in found} - {result.instance})
    return True


# One query per group: each expression tagged with a `q` label, all joined by `or`.
# "@" stands for the target's label matchers.
NODE_EXPRESSIONS = {
    "cpu": f"sum by (mode) (rate(node_cpu_seconds_total{{@}}[{WINDOW}]))",
    "cpus": 'count(node_cpu_seconds_total{@,mode="idle"})',
    "boot": "node_boot_time_seconds{@}",
    "mem_total": "node_memory_MemTotal_bytes{@}",
    "mem_available": "node_memory_MemAvailable_bytes{@}",
    "swap_total": "node_memory_SwapTotal_bytes{@}",
    "swap_free": "node_memory_SwapFree_bytes{@}",
    "swap_in": "node_vmstat_pswpin{@}",  # pages swapped in since boot
    "swap_out": "node_vmstat_pswpout{@}",
    "load1": "node_load1{@}",
    "load5": "node_load5{@}",
    "load15": "node_load15{@}",
    "receive_errs_total": 'node_network_receive_errs_total{@,device!="lo"}',
    "transmit_errs_total": 'node_network_transmit_errs_total{@,device!="lo"}',
    "receive_errs_5m": f'increase(node_network_receive_errs_total{{@,device!="lo"}}[{WINDOW}])',
    "transmit_errs_5m": f'increase(node_network_transmit_errs_total{{@,device!="lo"}}[{WINDOW}])',
}
DISK_EXPRESSIONS = {
    name: f"node_filesystem_{name}{{@,fstype!~{_quote(IGNORED_FSTYPES)}}}"
    for name in ("size_bytes", "free_bytes", "avail_bytes", "files", "files_free", "device_error")
}


def _batch(expressions: dict[str, str], selector: str) -> str:
    return " or ".join(
        f'label_replace({expression.replace("@", selector)}, "q", "{name}", "", "")'
        for name, expression in expressions.items()
    )


def _fill_node(rows: Rows, when: float, result: PromResult) -> None:
    modes = {labels.get("mode", ""): value for labels, value in rows if labels.get("q") == "cpu"}
    got = {labels.get("q", ""): value for labels, value in rows if "device" not in labels}
    cpus, total = int(got.get("cpus", 0)), sum(modes.values())
    if total > 0:
        idle, iowait = modes.get("idle", 0.0), modes.get("iowait", 0.0)
        result.readings["cpu"] = {
            "percent": round(100 * max(0.0, total - idle - iowait) / total, 1),
            "iowait_percent": round(100 * iowait / total, 1),
            "steal_percent": round(100 * modes.get("steal", 0.0) / total, 1),
            "cpu_count": cpus,
            "interval_s": WINDOW_S,
        }
    if got.get("mem_total", 0.0) > 0 and "mem_available" in got:
        mem_total, available = got["mem_total"], got["mem_available"]
        result.readings["memory"] = {
            "percent": round(100 * (mem_total - available) / mem_total, 1),
            "total_bytes": int(mem_total),
            "available_bytes": int(available),
            "used_bytes": int(mem_total - available),
        }
    if "swap_total" in got and "swap_free" in got:
        swap_total, used = got["swap_total"], max(0.0, got["swap_total"] - got["swap_free"])
        pages_in, pages_out = got.get("swap_in"), got.get("swap_out")
        result.readings["swap"] = {
            "percent": round(100 * used / swap_total, 1) if swap_total > 0 else 0.0,
            "total_bytes": int(swap_total),
            "used_bytes": int(used),
            "swapped_in_bytes": None if pages_in is None else int(pages_in * SWAP_PAGE_BYTES),
            "swapped_out_bytes": None if pages_out is None else int(pages_out * SWAP_PAGE_BYTES),
        }
    if cpus > 0 and all(f"load{period}" in got for period in (1, 5, 15)):
        result.readings["load"] = {
            **{f"load{period}": round(got[f"load{period}"], 2) for period in (1, 5, 15)},
            "per_core": round(got["load5"] / cpus, 2),  # the load check's default period
            "period_min": 5,
            "cpu_count": cpus,
        }
    if "boot" in got:
        minutes = round(max(0.0, when - got["boot"]) / 60, 1)
        result.readings["uptime"] = {
            "uptime_min": minutes,
            "uptime_s": int(minutes * 60),
            "boot_time": datetime.fromtimestamp(got["boot"], UTC).isoformat(timespec="seconds"),
        }
    # Interface error counters go to extras: the network check probes TCP targets instead.
    devices: dict[str, dict[str, int]] = {}
    for labels, value in rows:
        if "device" in labels:
            devices.setdefault(labels["device"], {})[labels.get("q", "")] = round(value)
    if devices:
        kinds = ("receive_errs_total", "transmit_errs_total", "receive_errs_5m", "transmit_errs_5m")
        result.extras["network_errors"] = {
            **{kind: sum(counts.get(kind, 0) for counts in devices.values()) for kind in kinds},
            "window_s": WINDOW_S,
            "devices_with_errors": sorted(name for name, c in devices.items() if any(c.values())),
        }


def _fill_disk(rows: Rows, when: float, result: PromResult) -> None:
    mounts: dict[tuple[str, str], dict[str, float]] = {}
    for labels, value in rows:
        key = (labels.get("mountpoint", ""), labels.get("device", ""))
        mounts.setdefault(key, {})[labels.get("q", "")] = value
    paths: dict[str, dict[str, Any]] = {}
    for (mount, _), got in sorted(mounts.items()):
        size, free, avail = (got.get(k) for k in ("size_bytes", "free_bytes", "avail_bytes"))
        if not mount or mount in paths or got.get("device_error") or not size:
            continue
        if free is None or avail is None:
            continue
        used = max(0.0, size - free)  # as df and psutil: blocks reserved for root are neither
        percent = round(100 * used / (used + avail), 1) if used + avail > 0 else 0.0
        files = got.get("files", 0.0)
        inodes = round(100 * (files - got.get("files_free", 0.0)) / files, 1) if files else None
        paths[mount] = {
            "percent": percent,
            "total_bytes": int(size),
            "used_bytes": int(used),
            "free_bytes": int(avail),
            "inodes_percent": inodes,
            "max_percent": max(percent, inodes or 0.0),
        }
    if paths:
        worst = max(entry["max_percent"] for entry in paths.values())
        result.readings["disk"] = {"paths": paths, "max_percent": worst}


PARTS: list[tuple[str, dict[str, str], Callable[[Rows, float, PromResult], None]]] = [
    ("cpu/memory/swap/load/uptime/network", NODE_EXPRESSIONS, _fill_node),
    ("disk", DISK_EXPRESSIONS, _fill_disk),
]
