"""Posting a snapshot to the hub and classifying its answer (httpx; one request at a time)."""

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apps.common.text import one_line

if TYPE_CHECKING:
    import httpx

SENT = "sent"  # 2xx (the hub answers 202)
RETRY = "retry"  # unreachable, timed out, 408, 429 or 5xx: keep and try again later
REFUSED = "refused"  # 401/403: the key is wrong; retrying cannot help
REJECTED = "rejected"  # any other answer: this snapshot will never be taken

TIMEOUT = (10.0, 5.0)  # seconds for the whole exchange, and to connect


@dataclass
class Answer:
    kind: str
    detail: str  # one line, never the API key
    retry_after_s: float | None = None


class Hub:
    def __init__(self, url: str, api_key: str, user_agent: str) -> None:
        self.url = url
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "User-Agent": user_agent,
        }
        self._client: httpx.Client | None = None

    def post(self, snapshot: dict[str, Any]) -> Answer:
        import httpx

        if self._client is None:
            total, connect = TIMEOUT
            timeout = httpx.Timeout(total, connect=connect)
            self._client = httpx.Client(headers=self._headers, timeout=timeout)
        # A path or process name that is not UTF-8 (a lone surrogate after decoding) becomes
        # "?": the hub refuses text no database can store.
        text = json.dumps(snapshot, separators=(",", ":"), ensure_ascii=False)
        body = text.encode("utf-8", "replace")
        try:
            response = self._client.post(self.url, content=body)
        except Exception as exc:  # httpx.HTTPError and anything else below it: try again later
            return Answer(RETRY, f"cannot reach {self.url}: {type(exc).__name__}: {one_line(exc)}")
        code = response.status_code
        if 200 <= code < 300:
            return Answer(SENT, f"HTTP {code}")
        if code in (401, 403):
            return Answer(
                REFUSED,
                f"the hub refused the API key (HTTP {code}) at {self.url}; check AGENT_API_KEY",
            )
        if code in (408, 429) or code >= 500:
            return Answer(RETRY, f"HTTP {code} from {self.url}", retry_after(response))
        text = one_line(response.text, 200)
        return Answer(REJECTED, f"HTTP {code} from {self.url}" + (f": {text}" if text else ""))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def retry_after(response: "httpx.Response") -> float | None:
    """A Retry-After in seconds (the date form is ignored)."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None
