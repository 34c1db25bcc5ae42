"""Personal data encrypted at rest (issue 8, part 6): ID numbers, phone numbers and bank
accounts are stored as AES-256-GCM ciphertext, each value with its own random nonce, and
looked up through a keyed hash (HMAC-SHA-256, the "blind index") kept beside it.

Keys: ``RENCAI_DATA_KEYS`` is a comma-separated list of ``id:base64-32-bytes``; the first
encrypts, all decrypt (rotation: put a new key first, run ``manage.py rotate_data_keys``,
then drop the old one; the key derived from SECRET_KEY, id ``d0``, always decrypts).
``RENCAI_INDEX_KEY`` (base64, 32 bytes) keys the blind index.
Without them (development, tests) both keys are derived from SECRET_KEY — set them in
production, so that changing SECRET_KEY does not make the data unreadable
(docs/security.md "Keys")."""

import base64
import functools
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "enc1:"


def _derived(label: str) -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), label.encode(), hashlib.sha256).digest()


def _b64key(text: str, name: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: a key is not base64") from None
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name}: a key must be 32 bytes (base64 of 32 bytes)")
    return key


@functools.cache
def _keys(spec: str) -> tuple[str, dict[str, bytes]]:
    if not spec:
        return "d0", {"d0": _derived("rencai data key v1")}
    keys: dict[str, bytes] = {}
    first = None
    for item in spec.split(","):
        kid, sep, key = item.strip().partition(":")
        if not sep or not kid or not kid.isalnum():
            raise ImproperlyConfigured("RENCAI_DATA_KEYS: use id:base64key[,id:base64key…]")
        keys[kid] = _b64key(key, "RENCAI_DATA_KEYS")
        first = first or kid
    # The key derived from SECRET_KEY still decrypts what was stored before keys were set,
    # until rotate_data_keys has re-encrypted it.
    keys.setdefault("d0", _derived("rencai data key v1"))
    return first, keys


def data_keys() -> tuple[str, dict[str, bytes]]:
    """(the id of the key that encrypts, every key by id)."""
    return _keys(getattr(settings, "RENCAI_DATA_KEYS", "") or "")


@functools.cache
def _index_key(spec: str) -> bytes:
    if not spec:
        return _derived("rencai index key v1")
    return _b64key(spec, "RENCAI_INDEX_KEY")


def encrypt(text: str) -> str:
    kid, keys = data_keys()
    nonce = os.urandom(12)
    sealed = AESGCM(keys[kid]).encrypt(nonce, text.encode(), kid.encode())
    return f"{PREFIX}{kid}:{base64.b64encode(nonce + sealed).decode()}"


def is_encrypted(stored: str | None) -> bool:
    return bool(stored) and stored.startswith(PREFIX)


def decrypt(stored: str) -> str:
    """The plain value. A value without the prefix was stored before encryption (it is
    encrypted by the migration and by ``rotate_data_keys``) and is returned as it is."""
    if not is_encrypted(stored):
        return stored
    kid, _, body = stored[len(PREFIX) :].partition(":")
    key = data_keys()[1].get(kid)
    if key is None:
        raise ImproperlyConfigured(
            f"personal data is encrypted with key {kid!r}, which RENCAI_DATA_KEYS lacks"
        )
    raw = base64.b64decode(body)
    return AESGCM(key).decrypt(raw[:12], raw[12:], kid.encode()).decode()


def blind_index(text: str, purpose: str) -> str:
    """The keyed hash that equality lookups use; ``purpose`` (the field) keeps an ID
    number's hash from matching the same digits in another field."""
    key = _index_key(getattr(settings, "RENCAI_INDEX_KEY", "") or "")
    return hmac.new(key, f"{purpose}\x00{text}".encode(), hashlib.sha256).hexdigest()
