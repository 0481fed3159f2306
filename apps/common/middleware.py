"""HEAD answered like GET, without the body (RFC 9110 9.3.2).

Monitors and load balancers probe with HEAD; Django's function views and the API's routes only
know GET, and would answer 405.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class HeadAsGetMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "HEAD":
            return self.get_response(request)
        request.method = "GET"
        try:
            response = self.get_response(request)
        finally:
            request.method = "HEAD"
        if response.streaming:
            response.streaming_content = []  # the server still closes the original resources
        else:
            response["Content-Length"] = str(len(response.content))
            response.content = b""
        return response
