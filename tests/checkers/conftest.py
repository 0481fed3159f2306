"""Fakes of psutil built from psutil's own named tuples, and real loopback TCP endpoints."""

import os
import socket
import time
from collections.abc import Iterator
from types import SimpleNamespace

import psutil
import pytest
from psutil._ntuples import scputimes, sdiskusage, sswap, svmem

GIB = 2**30


def cpu_samples(busy_percent: float, iowait_percent: float = 0.0) -> list:
    """Two cpu_times() samples 100 ticks apart with the given share busy."""
    zero = scputimes(*([0.0] * len(scputimes._fields)))
    idle = 100.0 - busy_percent - iowait_percent
    later = zero._replace(user=busy_percent, idle=idle, iowait=iowait_percent)
    return [zero, later]


def memory(percent: float) -> svmem:
    total = 16 * GIB
    available = int(total * (100 - percent) / 100)
    used = total - available
    return svmem(total, available, percent, used, available, 0, 0, 0, 0, 0, 0)


def swap(percent: float, total: int = 4 * GIB) -> sswap:
    used = int(total * percent / 100)
    return sswap(total, used, total - used, percent, 0, 0)


def disk(percent: float) -> sdiskusage:
    total = 100 * GIB
    used = int(total * percent / 100)
    return sdiskusage(total, used, total - used, percent)


def inodes(percent: float) -> os.statvfs_result:
    files = 1000
    free = int(files * (100 - percent) / 100)
    return os.statvfs_result((4096, 4096, 1000, 500, 500, files, free, free, 0, 255))


class FakePsutil:
    """Replace the psutil calls the checks make; each setter returns self."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def set(self, function: str, value) -> "FakePsutil":
        def fake(*args, **kwargs):
            if isinstance(value, BaseException):
                raise value
            return value

        self.monkeypatch.setattr(psutil, function, fake)
        return self

    def cpu(self, busy_percent: float, iowait_percent: float = 0.0) -> "FakePsutil":
        samples = iter(cpu_samples(busy_percent, iowait_percent) * 100)
        self.monkeypatch.setattr(psutil, "cpu_times", lambda percpu=False: next(samples))
        return self

    def memory(self, percent: float) -> "FakePsutil":
        return self.set("virtual_memory", memory(percent))

    def swap(self, percent: float, total: int = 4 * GIB) -> "FakePsutil":
        return self.set("swap_memory", swap(percent, total))

    def load(self, *averages: float, cores: int = 2) -> "FakePsutil":
        self.monkeypatch.setattr(psutil, "cpu_count", lambda logical=True: cores)
        return self.set("getloadavg", tuple(averages))

    def disk(self, percent: float, inode_percent: float = 1.0) -> "FakePsutil":
        self.monkeypatch.setattr(os, "statvfs", lambda path: inodes(inode_percent))
        return self.set("disk_usage", disk(percent))

    def uptime_minutes(self, minutes: float) -> "FakePsutil":
        return self.set("boot_time", time.time() - minutes * 60)

    def processes(self, *names: str) -> "FakePsutil":
        procs = [SimpleNamespace(info={"name": name}) for name in names]
        self.monkeypatch.setattr(psutil, "process_iter", lambda attrs=None: iter(procs))
        return self


@pytest.fixture
def fake(monkeypatch) -> FakePsutil:
    return FakePsutil(monkeypatch)


@pytest.fixture
def tcp_listener() -> Iterator[str]:
    """A real listening TCP socket on loopback; yields 'host:port'."""
    server = socket.create_server(("127.0.0.1", 0))
    server.listen()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()


@pytest.fixture
def closed_port() -> str:
    """'host:port' on loopback where nothing listens (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"127.0.0.1:{port}"
