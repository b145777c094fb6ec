"""Encryption at rest: an encrypted workspace's key, and sealing and opening its files.

A passphrase becomes a key-encryption key with scrypt (memory-hard: 2**17 x 8 x 128
bytes = 128 MiB per guess). That key unwraps the workspace's data key, a random 256-bit
key made when the workspace was created; the data key seals every file that holds
document content with AES-256-GCM. ``encryption.json`` keeps, in the clear, what is
needed to try a passphrase: the scrypt salt and parameters, and the wrapped data key.
Unwrapping is an AEAD check, so a wrong passphrase is detected there, before any data
file is read; and the passphrase could later change without re-sealing the data.

Each sealed blob is ``MAGIC | 96-bit random nonce | ciphertext | 128-bit tag``, with
associated data naming the workspace (a random id, so a rename keeps it) and the blob's
role (the plain file's name), so that a blob moved to another file or workspace fails
to open. Random nonces are safe here: a workspace's key seals far fewer than the 2**32
messages that AES-GCM's random-nonce bound allows.

The key lives in memory only, in a ``Vault``, while the workspace is open. Python cannot
wipe memory reliably; see README, "Security and privacy", for what that leaves.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from rag.errors import PassphraseError, StoreError, WorkspaceError
from rag.logs import withhold_details
from rag.process import keep_out_of_dumps
from rag.store.atomic import write_atomic

HEADER_NAME = "encryption.json"
SEALED_SUFFIX = ".sealed"
HEADER_VERSION = 1
AEAD_NAME = "AES-256-GCM"
MIN_PASSPHRASE_CHARS = 8
# OWASP's scrypt setting: 128 MiB and about half a second per guess on a laptop core.
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
# What a header may ask for: enough to open workspaces made with stronger settings,
# not so much that an altered header could make Hushdoc allocate gigabytes.
_SCRYPT_LIMITS = {"n": (2**14, 2**20), "r": (1, 32), "p": (1, 16)}
_MAGIC = b"HDS1"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class Header:
    """``encryption.json``: everything needed to try a passphrase, nothing secret."""

    version: int
    workspace_id: str
    aead: str
    kdf: str
    salt: str
    n: int
    r: int
    p: int
    wrapped_key: str

    def associated_data(self) -> bytes:
        """The header's settings, bound to the wrapped key: altering any of them fails."""
        settings = {k: v for k, v in asdict(self).items() if k != "wrapped_key"}
        return b"hushdoc-key|" + json.dumps(settings, sort_keys=True).encode()


class Vault:
    """The unlocked data key of one encrypted workspace: seals and opens its files."""

    def __init__(self, workspace_id: str, key: bytes) -> None:
        self.workspace_id = workspace_id
        self._aead = AESGCM(key)

    def seal(self, data: bytes, *, role: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _MAGIC + nonce + self._aead.encrypt(nonce, data, self._associated(role))

    def open(self, blob: bytes, *, role: str, path: Path) -> bytes:
        """The plaintext of ``blob``; a damaged or altered blob is a ``StoreError``."""
        head = len(_MAGIC) + _NONCE_BYTES
        try:
            if not blob.startswith(_MAGIC) or len(blob) < head + _TAG_BYTES:
                raise InvalidTag
            return self._aead.decrypt(blob[len(_MAGIC) : head], blob[head:], self._associated(role))
        except InvalidTag:
            raise StoreError(
                f"{path} cannot be decrypted: it is damaged, or it was altered or copied from "
                "elsewhere. Restore the workspace folder from a backup, or delete the workspace "
                "and index its documents again."
            ) from None

    def write(self, path: Path, data: bytes) -> None:
        """Seal ``data`` as the file ``path`` would hold it, and write it atomically beside."""
        write_atomic(sealed_path(path), self.seal(data, role=path.name))

    def read(self, path: Path) -> bytes | None:
        """What ``write`` sealed for ``path``; None if there is no such file."""
        target = sealed_path(path)
        try:
            blob = target.read_bytes()
        except FileNotFoundError:
            return None
        return self.open(blob, role=path.name, path=target)

    def _associated(self, role: str) -> bytes:
        return f"hushdoc|{self.workspace_id}|{role}".encode()


def sealed_path(path: Path) -> Path:
    """Where the sealed form of the plain file ``path`` lives."""
    return path.with_name(path.name + SEALED_SUFFIX)


def is_encrypted(folder: Path) -> bool:
    return (folder / HEADER_NAME).is_file()


def create_vault(folder: Path, passphrase: str) -> Vault:
    """Make ``folder`` an encrypted workspace: a new data key, wrapped with the passphrase."""
    check_new_passphrase(passphrase)
    salt = secrets.token_bytes(16)
    key = secrets.token_bytes(_KEY_BYTES)
    unsigned = Header(
        HEADER_VERSION,
        secrets.token_hex(16),
        AEAD_NAME,
        "scrypt",
        _b64(salt),
        SCRYPT_N,
        SCRYPT_R,
        SCRYPT_P,
        "",
    )
    wrapping = AESGCM(_derive(passphrase, unsigned))
    nonce = os.urandom(_NONCE_BYTES)
    wrapped = nonce + wrapping.encrypt(nonce, key, unsigned.associated_data())
    header = Header(**{**asdict(unsigned), "wrapped_key": _b64(wrapped)})
    write_atomic(folder / HEADER_NAME, json.dumps(asdict(header), indent=2).encode())
    withhold_details()
    keep_out_of_dumps()
    return Vault(header.workspace_id, key)


def unlock_vault(folder: Path, passphrase: str) -> Vault:
    """The vault of the encrypted workspace in ``folder``; a wrong passphrase is a
    ``PassphraseError``, found without reading any data file."""
    header = read_header(folder)
    wrapped = base64.b64decode(header.wrapped_key)
    wrapping = AESGCM(_derive(passphrase, header))
    try:
        key = wrapping.decrypt(
            wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], header.associated_data()
        )
    except InvalidTag:
        raise PassphraseError(
            f"Wrong passphrase for workspace '{folder.name}'. Type it again (it is "
            "case-sensitive). Hushdoc keeps no copy of it: without it, the workspace cannot "
            "be opened, only deleted."
        ) from None
    withhold_details()
    keep_out_of_dumps()
    return Vault(header.workspace_id, key)


def check_vault(folder: Path, vault: Vault | None) -> None:
    """Refuse to open an encrypted workspace without its own key, or a plain one with one."""
    name = folder.name
    if not is_encrypted(folder):
        if vault is not None:
            raise WorkspaceError(f"Workspace '{name}' is not encrypted; open it without a key.")
        if any(folder.glob(f"*{SEALED_SUFFIX}")):
            raise StoreError(
                f"Workspace '{name}' holds encrypted files, but its encryption header "
                f"({folder / HEADER_NAME}) is missing. Restore the folder from a backup."
            )
    elif vault is None:
        raise PassphraseError(
            f"Workspace '{name}' is encrypted: it opens only with its passphrase."
        )
    elif read_header(folder).workspace_id != vault.workspace_id:
        raise PassphraseError(f"The key given for workspace '{name}' is another workspace's.")


def read_header(folder: Path) -> Header:
    path = folder / HEADER_NAME
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        header = Header(**data)
        base64.b64decode(header.salt, validate=True)
        wrapped = base64.b64decode(header.wrapped_key, validate=True)
        if len(wrapped) != _NONCE_BYTES + _KEY_BYTES + _TAG_BYTES:
            raise ValueError(f"the wrapped key has {len(wrapped)} bytes")
    except (OSError, ValueError, TypeError) as exc:
        raise StoreError(
            f"The encryption header {path} is unreadable ({exc}). Restore the workspace "
            "folder from a backup; without this file its data cannot be decrypted."
        ) from exc
    if header.version > HEADER_VERSION or header.aead != AEAD_NAME or header.kdf != "scrypt":
        raise StoreError(
            f"The workspace in {folder} is encrypted in a way this Hushdoc does not know "
            f"({header.kdf}, {header.aead}, version {header.version}). Update Hushdoc."
        )
    for name, (low, high) in _SCRYPT_LIMITS.items():
        value = getattr(header, name)
        if not isinstance(value, int) or not low <= value <= high:
            raise StoreError(
                f"The encryption header {path} asks for scrypt {name}={value!r}, outside "
                f"{low}..{high}; it was altered. Restore the workspace folder from a backup."
            )
    return header


def check_new_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise PassphraseError(
            f"The passphrase is too short: use at least {MIN_PASSPHRASE_CHARS} characters "
            "(a few unrelated words are both strong and easy to remember)."
        )


def _derive(passphrase: str, header: Header) -> bytes:
    kdf = Scrypt(
        salt=base64.b64decode(header.salt), length=_KEY_BYTES, n=header.n, r=header.r, p=header.p
    )
    # NFC: the same passphrase typed on another system may arrive composed differently.
    return kdf.derive(unicodedata.normalize("NFC", passphrase).encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
