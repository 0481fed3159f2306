"""Console fixtures: users in the console's groups, and a real server for the browser."""

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group, User

from apps.console.groups import ensure_groups

PASSWORD = "a-long-test-password"


def user_in(group: str | None, name: str) -> User:
    ensure_groups()
    user = User.objects.create_user(name, password=PASSWORD)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def operator(db) -> User:
    return user_in("console-operators", "olga")


@pytest.fixture
def viewer(db) -> User:
    return user_in("console-viewers", "victor")


@pytest.fixture
def nobody(db) -> User:
    return user_in(None, "nadia")


@pytest.fixture
def console_server(transactional_db) -> Iterator[str]:
    """The whole site served by a real threaded server on a free loopback port."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.db import connections
    from django.test.testcases import LiveServerThread

    thread = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield f"http://127.0.0.1:{thread.port}"
    finally:
        thread.terminate()
        connections.close_all()
