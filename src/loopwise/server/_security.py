"""Passwords (salted scrypt), API tokens (random, stored as SHA-256), CSRF tokens, the session secret, sign-in throttling."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from loopwise.errors import LoopwiseError

# scrypt cost: n=2**14, r=8, p=1 (16 MiB, tens of milliseconds): the parameters RFC 7914 suggests for
# interactive logins. They are stored with each hash so they can be raised later.
_N, _R, _P, _DKLEN = 2**14, 8, 1, 32
_TOKEN_PREFIX = "lw_"
# The session secret kept with the store (in its artifact folder), readable by its owner only.
SECRET_FILE = "session-secret"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        # Same work as a real check, so timing does not tell whether the user exists.
        hashlib.scrypt(password.encode(), salt=b"0" * 16, n=_N, r=_R, p=_P, dklen=_DKLEN)
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.urlsafe_b64decode(digest + "==")
        actual = hashlib.scrypt(
            password.encode(), salt=base64.urlsafe_b64decode(salt + "=="), n=int(n), r=int(r), p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def new_token() -> str:
    """An API token: 256 random bits, shown to its owner once."""
    return _TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # A token is 256 random bits, so a fast unsalted hash is safe (nothing to brute-force) and lets the
    # server find its owner with one indexed lookup; only the hash is stored.
    return hashlib.sha256(token.encode()).hexdigest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_secret(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def session_secret(configured: str | None, folder: Path) -> tuple[str, bool]:
    """(secret, persistent): the configured secret, else one generated once and kept in ``folder``.

    Signed-in sessions then survive restarts. Several processes starting at once (``serve --workers
    N``) agree on one secret: it is written to a temporary file and linked into place, which fails
    for all but the first, and every process reads what the first wrote. When the folder cannot be
    written, the secret is random for this process only (``persistent`` False; the caller warns).
    """
    if configured:
        return configured, True
    target = Path(folder) / SECRET_FILE
    try:
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(32))
            try:
                os.link(temporary, target)
            except FileExistsError:
                pass
            finally:
                temporary.unlink()
        secret = target.read_text().strip()
    except OSError:
        return secrets.token_urlsafe(32), False
    if len(secret) < 16:
        return secrets.token_urlsafe(32), False
    return secret, True


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site (``/projects/3/annotate``), else ``default``: no open redirect.

    Refused: anything with a scheme or host (``https://evil``), protocol-relative ``//evil``, and
    backslashes or control characters, which browsers may read as ``/`` or drop.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("/login"):
        return default
    return target


class ThrottledError(LoopwiseError, PermissionError):
    """Too many failed sign-ins for a user name or from an address; ``retry_after`` seconds to wait."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LoginThrottle:
    """Failed sign-ins counted per user name and per client address over a sliding window.

    Past ``max_per_name`` failures for a name (or ``max_per_address`` from one address, which many
    people behind one NAT may share), every sign-in for it is refused, a correct password included,
    until the oldest failure leaves the window. Counted in memory, not in the store: a failed
    attempt then costs no database write, so guessing passwords cannot load the one SQLite writer
    the annotators need; the price is that a restart forgets the counts and that each server
    process (``serve --workers N``) counts on its own. ``clock`` is injectable so tests need no sleep.
    """

    def __init__(
        self, max_per_name: int = 5, max_per_address: int = 20, window_seconds: float = 900.0,
        clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000,
    ) -> None:
        self.max_per_name = max_per_name
        self.max_per_address = max_per_address
        self.window_seconds = window_seconds
        self.clock = clock
        self.max_keys = max_keys
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, name: str, address: str) -> None:
        """Raise :class:`ThrottledError` if ``name`` or ``address`` has used up its failures."""
        now = self.clock()
        with self._lock:
            for key, limit in ((("name", name.casefold()), self.max_per_name), (("address", address), self.max_per_address)):
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = max(1, math.ceil(times[0] + self.window_seconds - now))
                    what = f"user name {name!r}" if key[0] == "name" else f"address {address}"
                    raise ThrottledError(
                        f"too many failed sign-ins for {what}: try again in {wait} s", retry_after=wait
                    )

    def failed(self, name: str, address: str) -> None:
        """Count one failed sign-in against the name and the address."""
        now = self.clock()
        with self._lock:
            if len(self._failures) >= self.max_keys:
                # Memory stays bounded under a flood of made-up names; the flood's address stays counted.
                self._failures = {k: v for k, v in self._failures.items() if k[0] == "address"}
            for key in (("name", name.casefold()), ("address", address)):
                self._recent(key, now).append(now)

    def succeeded(self, name: str) -> None:
        """A correct password clears the name's failures (not the address's: others may share it)."""
        with self._lock:
            self._failures.pop(("name", name.casefold()), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window_seconds:
            times.popleft()
        return times


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
