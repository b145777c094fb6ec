"""Encryption at rest: an encrypted workspace's key, and sealing and opening its files.

A passphrase becomes a key-encryption key with scrypt (memory-hard: 2**17 x 8 x 128
bytes = 128 MiB per guess). That key unwraps the workspace's data key, a random 256-bit
key made when the workspace was created; the data key seals every file that holds
document content with AES-256-GCM. ``encryption.json`` keeps, in the clear, what is
needed to try a passphrase: the scrypt salt and parameters, and the wrapped data key.
Unwrapping is an AEAD check, so a wrong passphrase is detected there, before any data
file is read; and the passphrase changes (``change_passphrase``) by wrapping the same data
key anew, without re-sealing the data. A header's scrypt parameters and lengths are
capped at what this code writes, so an altered header cannot make Hushdoc allocate more
memory than it chose. ``encryption.backup.json`` is a copy of the header, written with it
(at creation, and on each change of passphrase) and used, saying so, when the header is
missing or damaged.

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
import logging
import os
import secrets
import string
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
from rag.store.locks import CHANGING_PASSPHRASE, hold_writing

log = logging.getLogger(__name__)

HEADER_NAME = "encryption.json"
BACKUP_NAME = "encryption.backup.json"
SEALED_SUFFIX = ".sealed"
HEADER_VERSION = 1
AEAD_NAME = "AES-256-GCM"
MIN_PASSPHRASE_CHARS = 8
# OWASP's scrypt setting: 128 MiB and about half a second per guess on a laptop core.
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
# What a header may ask for: at most what this code writes (128 * r * n bytes = 128 MiB),
# so that an altered header cannot make Hushdoc allocate more (n = 2**22 with r = 8 would
# take 4 GiB). A later Hushdoc that writes stronger settings raises these with them.
_SCRYPT_LIMITS = {"n": (2**14, SCRYPT_N), "r": (1, SCRYPT_R), "p": (1, SCRYPT_P)}
_MAGIC = b"HDS1"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_KEY_BYTES = 32
_SALT_BYTES = 16
_ID_CHARS = 32  # the workspace id: 16 random bytes in hex
_HEADER_MAX_BYTES = 4096  # a header is some 400 bytes; a bigger file is not one


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
        # What the user should know of the unlocking (the header restored from its backup).
        self.notice: str | None = None

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
    return (folder / HEADER_NAME).is_file() or (folder / BACKUP_NAME).is_file()


def create_vault(folder: Path, passphrase: str) -> Vault:
    """Make ``folder`` an encrypted workspace: a new data key, wrapped with the passphrase."""
    check_new_passphrase(passphrase)
    key = secrets.token_bytes(_KEY_BYTES)
    header = _wrapped(key, passphrase, workspace_id=secrets.token_hex(_ID_CHARS // 2))
    _write_header(folder, header)
    return _opened(header, key)


def unlock_vault(folder: Path, passphrase: str) -> Vault:
    """The vault of the encrypted workspace in ``folder``; a wrong passphrase is a
    ``PassphraseError``, found without reading any data file. If the header is missing or
    damaged, its backup is used, the header restored from it, and ``Vault.notice`` says so."""
    header, problem = _usable_header(folder)
    vault = _opened(header, _unwrapped(header, passphrase, folder.name))
    try:
        if problem is not None:
            write_atomic(folder / HEADER_NAME, _encoded(header))
            vault.notice = (
                f"The encryption header of workspace '{folder.name}' ({HEADER_NAME}) {problem}; "
                f"Hushdoc opened the workspace with the header's backup ({BACKUP_NAME}) and "
                "restored the header from it."
            )
            log.warning("encryption header restored from its backup: %s", problem)
        elif _backup(folder) != header:  # none yet (an older Hushdoc), or an older one
            write_atomic(folder / BACKUP_NAME, _encoded(header))
    except OSError as exc:  # a read-only copy of the workspace opens all the same
        log.warning("encryption header or its backup not written: %s", exc)
    return vault


def change_passphrase(folder: Path, old: str, new: str) -> None:
    """Wrap the data key of the encrypted workspace in ``folder`` with ``new`` instead of
    ``old``: only the header (and its backup) change, each written atomically; no data file
    is touched. Refused while another process has the workspace open."""
    check_new_passphrase(new)
    with hold_writing(folder, role=CHANGING_PASSPHRASE, encrypted=True, share_in_process=False):
        header, _ = _usable_header(folder)
        key = _unwrapped(header, old, folder.name)
        keep_out_of_dumps()
        _write_header(folder, _wrapped(key, new, workspace_id=header.workspace_id))


def check_vault(folder: Path, vault: Vault | None) -> None:
    """Refuse to open an encrypted workspace without its own key, or a plain one with one."""
    name = folder.name
    if not is_encrypted(folder):
        if vault is not None:
            raise WorkspaceError(f"Workspace '{name}' is not encrypted; open it without a key.")
        if any(folder.glob(f"*{SEALED_SUFFIX}")):
            raise StoreError(
                f"Workspace '{name}' holds encrypted files, but its encryption header "
                f"({folder / HEADER_NAME}) is missing, and so is its backup ({BACKUP_NAME}). "
                "Restore the folder from a backup."
            )
    elif vault is None:
        raise PassphraseError(
            f"Workspace '{name}' is encrypted: it opens only with its passphrase."
        )
    elif read_header(folder).workspace_id != vault.workspace_id:
        raise PassphraseError(f"The key given for workspace '{name}' is another workspace's.")


def read_header(folder: Path) -> Header:
    """The workspace's header, or its backup's if the header is missing or damaged."""
    return _usable_header(folder)[0]


def _usable_header(folder: Path) -> tuple[Header, str | None]:
    """The header; or, if it is missing or damaged, the backup's, with what was wrong. If
    neither can be used, the header's problem is raised."""
    try:
        return _parsed_header(folder / HEADER_NAME), None
    except _HeaderProblem as exc:
        problem = exc
    try:
        return _parsed_header(folder / BACKUP_NAME), problem.reason
    except _HeaderProblem:
        raise problem from None


def _backup(folder: Path) -> Header | None:
    try:
        return _parsed_header(folder / BACKUP_NAME)
    except _HeaderProblem:
        return None


class _HeaderProblem(StoreError):
    """A header file that cannot be used; ``reason`` says why, after its name."""

    def __init__(self, path: Path, reason: str, advice: str = "") -> None:
        advice = advice or (
            "Restore the workspace folder from a backup; without this file its data cannot "
            "be decrypted."
        )
        super().__init__(f"The encryption header {path} {reason}. {advice}")
        self.reason = reason


def _parsed_header(path: Path) -> Header:
    """The header in ``path``, refused unless every field is as this code writes it."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(_HEADER_MAX_BYTES + 1)
        if len(raw) > _HEADER_MAX_BYTES:
            raise ValueError(f"it is longer than {_HEADER_MAX_BYTES} bytes")
        data: Any = json.loads(raw.decode("utf-8"))
        header = Header(**data)
        if len(base64.b64decode(header.salt, validate=True)) != _SALT_BYTES:
            raise ValueError(f"the salt is not {_SALT_BYTES} bytes")
        wrapped = base64.b64decode(header.wrapped_key, validate=True)
        if len(wrapped) != _NONCE_BYTES + _KEY_BYTES + _TAG_BYTES:
            raise ValueError(f"the wrapped key has {len(wrapped)} bytes")
        if not (
            isinstance(header.workspace_id, str)
            and len(header.workspace_id) == _ID_CHARS
            and set(header.workspace_id) <= set(string.hexdigits)
        ):
            raise ValueError(f"the workspace id is not {_ID_CHARS} hexadecimal digits")
    except FileNotFoundError:
        raise _HeaderProblem(path, "is missing") from None
    except (OSError, ValueError, TypeError) as exc:
        raise _HeaderProblem(path, f"is unreadable ({exc})") from exc
    if header.version != HEADER_VERSION or header.aead != AEAD_NAME or header.kdf != "scrypt":
        raise _HeaderProblem(
            path,
            f"is of a kind this Hushdoc does not know ({header.kdf}, {header.aead}, version "
            f"{header.version})",
            "Update Hushdoc.",
        )
    for name, (low, high) in _SCRYPT_LIMITS.items():
        value = getattr(header, name)
        power = name != "n" or (isinstance(value, int) and value & (value - 1) == 0)
        if type(value) is not int or not low <= value <= high or not power:
            kind = ", a power of 2" if name == "n" else ""
            raise _HeaderProblem(
                path,
                f"asks for scrypt {name}={value!r}, outside what Hushdoc writes "
                f"({low}..{high}{kind}): it was altered",
            )
    return header


def _wrapped(key: bytes, passphrase: str, *, workspace_id: str) -> Header:
    """A header that wraps ``key`` with ``passphrase``, under a new salt."""
    unsigned = Header(
        HEADER_VERSION,
        workspace_id,
        AEAD_NAME,
        "scrypt",
        _b64(secrets.token_bytes(_SALT_BYTES)),
        SCRYPT_N,
        SCRYPT_R,
        SCRYPT_P,
        "",
    )
    nonce = os.urandom(_NONCE_BYTES)
    wrapped = AESGCM(_derive(passphrase, unsigned)).encrypt(nonce, key, unsigned.associated_data())
    return Header(**{**asdict(unsigned), "wrapped_key": _b64(nonce + wrapped)})


def _unwrapped(header: Header, passphrase: str, name: str) -> bytes:
    wrapped = base64.b64decode(header.wrapped_key)
    try:
        return AESGCM(_derive(passphrase, header)).decrypt(
            wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], header.associated_data()
        )
    except InvalidTag:
        raise PassphraseError(
            f"Wrong passphrase for workspace '{name}'. Type it again (it is "
            "case-sensitive). Hushdoc keeps no copy of it: without it, the workspace cannot "
            "be opened, only deleted."
        ) from None


def _opened(header: Header, key: bytes) -> Vault:
    """The vault of ``key``; from now on the process holds a key, and acts accordingly."""
    withhold_details()
    keep_out_of_dumps()
    return Vault(header.workspace_id, key)


def _write_header(folder: Path, header: Header) -> None:
    """The header, then its backup, each atomically: a crash between the two leaves a
    header that opens, and the next unlock writes the backup again."""
    write_atomic(folder / HEADER_NAME, _encoded(header))
    write_atomic(folder / BACKUP_NAME, _encoded(header))


def _encoded(header: Header) -> bytes:
    return json.dumps(asdict(header), indent=2).encode()


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
