"""Pseudonymous user ids. A Telegram user id is never stored: only HMAC-SHA256(salt, id).
The salt is random, made at first start and kept in the data directory, readable by the
owner only; replicas that must agree on it get it from ``POLICYBOT_USER_SALT``. With a
secret salt the hash cannot be reversed by trying every Telegram id."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SALT_FILE = "salt"


class SaltError(Exception):
    pass


def load_salt(data_dir: Path, configured: str | None = None) -> bytes:
    if configured:
        return configured.encode()
    path = Path(data_dir) / SALT_FILE
    try:
        if path.is_file():
            return path.read_bytes().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        salt = secrets.token_hex(32).encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(salt)
        return salt
    except FileExistsError:  # another process made it a moment ago
        return path.read_bytes().strip()
    except OSError as e:
        raise SaltError(f"kan ikke lese eller lage {path}: {e.strerror or e}") from e


def user_hash(salt: bytes, user_id: int | str) -> str:
    return hmac.new(salt, str(user_id).encode(), hashlib.sha256).hexdigest()[:32]
