"""apps.common.auth.authenticate: Bearer keys, scopes, JSON errors."""

import pytest
from django.test import RequestFactory

from apps.common.auth import AuthError, authenticate
from apps.common.models import ApiKey

pytestmark = pytest.mark.django_db


def request_with(header=None):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    return RequestFactory().post("/api/alerts/", **extra)


def test_valid_key_with_scope_returns_the_key():
    key, raw = ApiKey.create_key("k", ["ingest", "read"])
    assert authenticate(request_with(f"Bearer {raw}"), "ingest") == key
    assert authenticate(request_with(f"bearer   {raw}  "), "read") == key


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer wrong"])
def test_bad_credentials_raise_401(header):
    ApiKey.create_key("k", ["ingest"])
    with pytest.raises(AuthError) as info:
        authenticate(request_with(header), "ingest")
    assert info.value.status == 401
    response = info.value.response()
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_missing_scope_raises_403_naming_it():
    _, raw = ApiKey.create_key("reader", ["read"])
    with pytest.raises(AuthError) as info:
        authenticate(request_with(f"Bearer {raw}"), "ingest")
    assert info.value.status == 403
    assert "'ingest'" in info.value.message


def test_only_the_hash_is_stored():
    key, raw = ApiKey.create_key("k", ["ingest"])
    assert raw not in (key.key_hash, key.prefix)
    assert not ApiKey.objects.filter(key_hash=raw).exists()
