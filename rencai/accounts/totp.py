"""Time-based one-time passwords (RFC 6238, HMAC-SHA1, 6 digits, 30-second steps) for
the second factor of staff and administrator accounts, with the standard library only.

The secret is stored encrypted with a key derived from SECRET_KEY (HMAC-SHA256 as the
keystream and as the tag); rotating SECRET_KEY without keeping the old one in
SECRET_KEY_FALLBACKS means every staff member enrols again. Recovery codes are random
(80 bits) and stored only as SHA-256 hashes."""

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

from django.conf import settings

STEP_SECONDS = 30
DIGITS = 6
RECOVERY_CODES = 10


def new_secret() -> str:
    """160 random bits, base32 without padding (what authenticator apps accept)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret_b32: str) -> bytes:
    return base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226: dynamic truncation of HMAC-SHA1 over the 8-byte counter."""
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 10**digits:0{digits}d}"


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def code_at(secret_b32: str, step: int) -> str:
    return hotp(_key(secret_b32), step)


def matching_step(secret_b32: str, code: str, *, now: float | None = None) -> int | None:
    """The step (now, or one step either side for clock drift) whose code is ``code``."""
    code = (code or "").strip()
    if len(code) != DIGITS or not code.isdigit():
        return None
    step = current_step(now)
    found = None
    for candidate in (step - 1, step, step + 1):  # compare all three: no early exit
        if hmac.compare_digest(code_at(secret_b32, candidate), code):
            found = candidate
    return found


def provisioning_uri(secret_b32: str, *, account: str, issuer: str) -> str:
    label = quote(f"{issuer}:{account}", safe="")
    query = urlencode(
        {
            "secret": secret_b32,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": STEP_SECONDS,
        }
    )
    return f"otpauth://totp/{label}?{query}"


def grouped(secret_b32: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret_b32[i : i + 4] for i in range(0, len(secret_b32), 4))


# --------------------------------------------------------------------------- storage


def _subkey(purpose: str, secret_key: str | None = None) -> bytes:
    base = (secret_key or settings.SECRET_KEY).encode()
    return hmac.new(base, f"rencai.accounts.totp.{purpose}".encode(), hashlib.sha256).digest()


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < length:
        out += hmac.new(key, nonce + struct.pack(">I", counter), hashlib.sha256).digest()
        counter += 1
    return out[:length]


def encrypt_secret(secret_b32: str) -> str:
    plain = secret_b32.encode()
    nonce = secrets.token_bytes(16)
    stream = _keystream(_subkey("enc"), nonce, len(plain))
    cipher = bytes(a ^ b for a, b in zip(plain, stream, strict=True))
    tag = hmac.new(_subkey("mac"), nonce + cipher, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(nonce + cipher + tag).decode()


def decrypt_secret(token: str) -> str:
    """The stored secret; ValueError when it was not made with this (or a fallback) key."""
    raw = base64.urlsafe_b64decode(token.encode())
    nonce, cipher, tag = raw[:16], raw[16:-16], raw[-16:]
    for secret_key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        expected = hmac.new(_subkey("mac", secret_key), nonce + cipher, hashlib.sha256).digest()
        if hmac.compare_digest(expected[:16], tag):
            stream = _keystream(_subkey("enc", secret_key), nonce, len(cipher))
            return bytes(a ^ b for a, b in zip(cipher, stream, strict=True)).decode()
    raise ValueError("TOTP secret does not match the key")


def new_recovery_codes() -> list[str]:
    """Ten codes like ``ab3d-7kqz-m2xp-94tw`` (16 base32 characters, 80 bits)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def looks_like_recovery_code(code: str) -> bool:
    return len(normalise_recovery_code(code)) == 16


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(normalise_recovery_code(code).encode()).hexdigest()
