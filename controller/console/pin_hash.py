"""PINs stored only as salted scrypt hashes: ``scrypt:N:r:p:SALT_HEX:KEY_HEX``.

The cost parameters travel inside the hash, so a cheap hash (tests) and a costly one
(installations) use the same code; ``console.min_scrypt_n`` refuses hashes that are too cheap.
No message here ever includes a hash or a PIN.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

PREFIX = "scrypt"
DEFAULT_N = 2**14
DEFAULT_R = 8
DEFAULT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
MAX_N = 2**20
MAX_MEMORY_BYTES = 256 * 1024 * 1024
PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 12
PIN_RECOMMENDED_DIGITS = 6  # 10**6 PINs: years of guessing at the capped lock-out rate
FIELDS = 6


@dataclass(frozen=True, slots=True)
class PinHash:
    n: int
    r: int
    p: int
    salt: bytes
    key: bytes

    def __repr__(self) -> str:  # never print the secret parts
        return f"PinHash(n={self.n}, r={self.r}, p={self.p}, <redacted>)"


def pin_problem(pin: str) -> str:
    """Why ``pin`` is not an acceptable PIN, or "" (the PIN itself is never quoted)."""
    if not pin.isascii() or not pin.isdigit():
        return "a PIN is digits only"
    if not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
        return f"a PIN has {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits"
    return ""


def _derive(pin: str, n: int, r: int, p: int, salt: bytes) -> bytes:
    return hashlib.scrypt(pin.encode("ascii"), salt=salt, n=n, r=r, p=p,
                          maxmem=MAX_MEMORY_BYTES, dklen=KEY_BYTES)


def hash_pin(pin: str, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P,
             salt: bytes | None = None) -> str:
    """The stored form of ``pin`` with a fresh random salt; ValueError for a bad PIN or cost."""
    problem = pin_problem(pin)
    if problem:
        raise ValueError(problem)
    if n < 2 or n > MAX_N or n & (n - 1):
        raise ValueError(f"scrypt N = {n}: must be a power of two from 2 to {MAX_N}")
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    key = _derive(pin, n, r, p, salt)
    return f"{PREFIX}:{n}:{r}:{p}:{salt.hex()}:{key.hex()}"


def parse_pin_hash(text: str) -> PinHash:
    """A stored hash; ValueError saying what is wrong (without quoting it)."""
    parts = text.split(":")
    if len(parts) != FIELDS or parts[0] != PREFIX:
        raise ValueError(f"not a PIN hash: expected {PREFIX}:N:r:p:SALT:KEY "
                         "(make one with `v2xctl console hash-pin`)")
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, key = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
    except ValueError:
        raise ValueError("PIN hash: N, r, p must be integers and SALT, KEY hex") from None
    if n < 2 or n > MAX_N or n & (n - 1) or r < 1 or p < 1:
        raise ValueError(f"PIN hash: N must be a power of two from 2 to {MAX_N}, r and p >= 1")
    if len(salt) < SALT_BYTES // 2 or len(key) != KEY_BYTES:
        raise ValueError(f"PIN hash: salt of at least {SALT_BYTES // 2} bytes and a key of "
                         f"{KEY_BYTES} bytes expected")
    return PinHash(n, r, p, salt, key)


def verify_pin(pin: str, stored: PinHash) -> bool:
    """True when ``pin`` matches; constant-time compare; never raises for any input."""
    if pin_problem(pin):
        return False
    try:
        key = _derive(pin, stored.n, stored.r, stored.p, stored.salt)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(key, stored.key)
