"""The outbox bound and the loop's retry rules, in process with a scripted hub and a fake clock."""

from apps.agent.config import Config
from apps.agent.hub import REFUSED, REJECTED, RETRY, SENT, Answer
from apps.agent.outbox import PENDING_LIMIT, Outbox
from apps.agent.runner import Runner, retry_cap_s


def snap(n: int, status: str = "ok") -> dict:
    return {"observed_at": f"t{n:04d}", "checks": {"disk": {"status": status}}}


def test_changes_are_kept_in_order_up_to_the_limit_and_drops_are_counted():
    box = Outbox()
    for n in range(PENDING_LIMIT + 50):
        assert box.add(snap(n, "ok" if n % 2 else "warning")) is True
    assert len(box.changes) == PENDING_LIMIT == 100
    assert box.next()["observed_at"] == "t0050"
    assert box.take_dropped() == 50 and box.dropped == 0


def test_a_snapshot_without_a_change_only_replaces_the_latest():
    box = Outbox()
    first = snap(1)
    assert box.add(first) is True  # the first one tells the hub the starting state
    assert box.add(snap(2)) is False
    assert box.add(snap(3)) is False
    assert len(box) == 2 and box.latest["observed_at"] == "t0003"
    box.done(first)
    assert box.next()["observed_at"] == "t0003"
    box.add(snap(4, "critical"))  # a change: the unchanged latest is superseded by it
    assert box.latest is None and [s["observed_at"] for s in box.changes] == ["t0004"]


class ScriptedHub:
    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.posted: list[str] = []

    def post(self, snapshot: dict) -> Answer:
        self.posted.append(snapshot["observed_at"])
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def runner(hub: ScriptedHub, now: list[float], lines: list[str]) -> Runner:
    config = Config("http://hub", "key", "web-07", 60, False, {})
    return Runner(config, hub, "1.0", lines.append, clock=lambda: now[0])  # type: ignore[arg-type]


def test_failures_back_off_and_one_recovery_line_then_everything_is_sent():
    hub = ScriptedHub(
        Answer(RETRY, "HTTP 503", None), Answer(RETRY, "HTTP 429", 30.0), Answer(SENT, "HTTP 202")
    )
    now, lines = [0.0], []
    agent = runner(hub, now, lines)
    for n, status in enumerate(["ok", "critical", "critical", "ok"]):
        agent.outbox.add(snap(n, status))
    assert agent.flush() is None
    assert 0.5 <= agent.retry_at <= 1.0  # Backoff(1 s) with jitter, first attempt
    now[0] = agent.retry_at
    assert agent.flush() is None
    assert agent.retry_at >= now[0] + 30.0  # Retry-After honoured (the cap is 5 min)
    now[0] = agent.retry_at
    assert agent.flush() is None
    assert hub.posted == ["t0000", "t0000", "t0000", "t0001", "t0003"]
    assert len(agent.outbox) == 0 and agent.failures == 0
    assert [line.split(" (")[0] for line in lines] == ["hub unavailable"] * 2 + [
        "hub answers again after 2 failed attempt(s); 2 more kept snapshot(s) to send"
    ]


def test_a_refused_key_ends_the_loop_and_a_rejected_snapshot_is_dropped():
    now, lines = [0.0], []
    agent = runner(
        ScriptedHub(Answer(REJECTED, "HTTP 422"), Answer(REFUSED, "refused")), now, lines
    )
    agent.outbox.add(snap(1))
    agent.outbox.add(snap(2, "critical"))
    assert agent.flush() == 2
    assert len(agent.outbox) == 1
    assert lines == ["hub rejected the snapshot of t0001 (HTTP 422)", "error: refused"]


def test_the_wait_between_attempts_grows_to_five_intervals_within_5_s_and_5_min():
    assert [retry_cap_s(i) for i in (1, 10, 60, 3600)] == [5.0, 50.0, 300.0, 300.0]
