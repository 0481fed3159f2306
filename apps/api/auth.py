"""Bearer API keys for ninja: one auth object per scope, checked by apps.common.auth."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from apps.common.auth import authenticate
from apps.common.models import ApiKey


class ScopedApiKey(HttpBearer):
    """`Authorization: Bearer <key>` of an active key holding `scope`.

    apps.common.auth.authenticate raises AuthError: 401 for a missing or unknown key, 403 for a
    key without the scope; the API's exception handler turns it into the JSON error.
    """

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def __call__(self, request: HttpRequest) -> ApiKey:
        return authenticate(request, self.scope)

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:  # pragma: no cover
        return authenticate(request, self.scope)


READ = ScopedApiKey("read")
WRITE = ScopedApiKey("write")
EXECUTE = ScopedApiKey("execute")
