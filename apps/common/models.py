import hashlib
import secrets

from django.db import models
from django.utils import timezone

SCOPES = ("ingest", "read", "write", "execute")
KEY_PREFIX = "ipk_"


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiKey(models.Model):
    """An API key; only its SHA-256 is stored. The raw key is shown once at creation."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def create_key(cls, name: str, scopes: list[str]) -> tuple["ApiKey", str]:
        raw = KEY_PREFIX + secrets.token_urlsafe(32)
        key = cls.objects.create(
            name=name, prefix=raw[:12], key_hash=hash_key(raw), scopes=sorted(set(scopes))
        )
        return key, raw

    @classmethod
    def lookup(cls, raw_key: str) -> "ApiKey | None":
        return cls.objects.filter(key_hash=hash_key(raw_key), is_active=True).first()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
