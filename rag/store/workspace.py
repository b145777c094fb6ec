"""Workspaces: one folder per matter, patient or project under the data dir.

Each workspace has its own documents, index, history, audit log and settings;
nothing is shared between them, so a question in one can never reach another's
passages, and deleting a workspace deletes every file it had. A workspace can be
encrypted, at creation only (``rag.store.vault``). Its folder is its user's alone
(``rag.store.private``), and it is not deleted or renamed while any process has it open
(``rag.store.locks``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from rag.config import Config
from rag.errors import WorkspaceError
from rag.store.atomic import write_atomic
from rag.store.locks import DELETING, RENAMING, hold_whole
from rag.store.private import make_private_dir
from rag.store.vault import Vault, create_vault, is_encrypted, sealed_path

DEFAULT_WORKSPACE = "default"
SETTINGS_NAME = "workspace.json"
_VALID_NAME = re.compile(r"^[\w][\w .,()'&+-]{0,63}$")


@dataclass(frozen=True, slots=True)
class WorkspaceSettings:
    """Settings that belong to one workspace rather than to the whole app."""

    # Record every question, answer and source in the workspace's audit log.
    audit_log: bool = False
    # The folders the workspace follows (``hushdoc index --watch``, "Keep in sync" in the
    # app), as absolute paths: what changes in them is indexed, moved or forgotten.
    followed_folders: tuple[str, ...] = ()


# An encrypted workspace seals these (in ``workspace.json.sealed``): folder names tell
# what the documents are about, and a plaintext audit setting could be edited to switch
# the log off unseen. A plaintext audit_log that an earlier Hushdoc left in
# ``workspace.json`` is read until the settings are next saved, sealed.
_SEALED_SETTINGS = frozenset({"followed_folders", "audit_log"})


def read_settings(folder: Path, *, vault: Vault | None = None) -> WorkspaceSettings:
    """The workspace's settings. An encrypted workspace's sealed ones (its followed
    folders) are read with its ``vault``, and are left at their defaults without it."""
    path = folder / SETTINGS_NAME
    data = _checked(_read_json(path), path) if path.exists() else {}
    if vault is not None:
        sealed = vault.read(path)
        if sealed is not None:
            data.update(_checked(_decoded(sealed, sealed_path(path)), sealed_path(path)))
    folders = data.get("followed_folders", [])
    return WorkspaceSettings(
        audit_log=data.get("audit_log") is True,
        followed_folders=tuple(folders) if isinstance(folders, list) else (),
    )


def save_settings(folder: Path, settings: WorkspaceSettings, *, vault: Vault | None = None) -> None:
    """Save the settings. In an encrypted workspace the sealed ones are saved with its
    ``vault``, and left as they are without it."""
    data = asdict(settings)
    data["followed_folders"] = list(settings.followed_folders)
    if not is_encrypted(folder):
        write_atomic(folder / SETTINGS_NAME, json.dumps(data, indent=2).encode("utf-8"))
        return
    clear = {k: v for k, v in data.items() if k not in _SEALED_SETTINGS}
    write_atomic(folder / SETTINGS_NAME, json.dumps(clear, indent=2).encode("utf-8"))
    if vault is not None:
        sealed = {k: v for k, v in data.items() if k in _SEALED_SETTINGS}
        vault.write(folder / SETTINGS_NAME, json.dumps(sealed, indent=2).encode("utf-8"))


def follow_folders(
    folder: Path, paths: Iterable[Path | str], *, vault: Vault | None = None
) -> tuple[str, ...]:
    """Add ``paths`` (made absolute) to the folders the workspace follows; returns them all."""
    settings = read_settings(folder, vault=vault)
    followed = list(settings.followed_folders)
    followed += [p for p in dict.fromkeys(os.path.abspath(p) for p in paths) if p not in followed]
    if tuple(followed) != settings.followed_folders:
        save_settings(folder, replace(settings, followed_folders=tuple(followed)), vault=vault)
    return tuple(followed)


def unfollow_folder(folder: Path, path: Path | str, *, vault: Vault | None = None) -> bool:
    """Stop following ``path`` (its documents stay indexed); False if it was not followed."""
    settings = read_settings(folder, vault=vault)
    target = os.path.abspath(path)
    if target not in settings.followed_folders:
        return False
    kept = tuple(p for p in settings.followed_folders if p != target)
    save_settings(folder, replace(settings, followed_folders=kept), vault=vault)
    return True


def _read_json(path: Path) -> object:
    try:
        return _decoded(path.read_bytes(), path)
    except OSError as exc:
        raise WorkspaceError(
            f"The workspace settings {path} are unreadable ({exc}). Fix or delete the file."
        ) from exc


def _decoded(raw: bytes, path: Path) -> object:
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        raise WorkspaceError(
            f"The workspace settings {path} are unreadable ({exc}). Fix or delete the file."
        ) from exc


def _checked(data: object, path: Path) -> dict[str, object]:
    """``data`` as settings, refused if it holds settings that are unknown or of a wrong type."""
    known = {f.name for f in fields(WorkspaceSettings)}
    if not isinstance(data, dict) or set(data) - known:
        raise WorkspaceError(
            f"The workspace settings {path} hold unknown settings; a newer Hushdoc may have "
            "written them. Update Hushdoc."
        )
    folders = data.get("followed_folders", [])
    if not isinstance(data.get("audit_log", False), bool) or not (
        isinstance(folders, list) and all(isinstance(p, str) for p in folders)
    ):
        raise WorkspaceError(
            f"The workspace settings {path} are invalid: expected audit_log true or false, "
            "and followed_folders a list of folder paths."
        )
    return dict(data)


def check_name(name: str) -> str:
    name = name.strip()
    if not _VALID_NAME.match(name) or name in {".", ".."}:
        raise WorkspaceError(
            f"'{name}' is not a valid workspace name. Use up to 64 letters, digits, spaces, "
            "dots, dashes or underscores, starting with a letter or digit."
        )
    return name


def workspace_dir(config: Config, name: str) -> Path:
    return config.workspaces_dir / check_name(name)


def list_workspaces(config: Config) -> list[str]:
    folder = config.workspaces_dir
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and _VALID_NAME.match(p.name))


def workspace_exists(config: Config, name: str) -> bool:
    return workspace_dir(config, name).is_dir()


def create_workspace(config: Config, name: str) -> Path:
    folder = workspace_dir(config, name)
    if folder.exists():
        raise WorkspaceError(f"A workspace named '{name}' already exists.")
    make_private_dir(config.data_dir)
    make_private_dir(config.workspaces_dir)
    make_private_dir(folder)
    return folder


def create_encrypted_workspace(config: Config, name: str, passphrase: str) -> Vault:
    """Create a workspace whose files are sealed with a key that ``passphrase`` unlocks;
    returns its vault, unlocked."""
    folder = create_workspace(config, name)
    try:
        return create_vault(folder, passphrase)
    except BaseException:
        shutil.rmtree(folder)
        raise


def delete_workspace(config: Config, name: str) -> None:
    """Delete a workspace and every file in it; refused, naming it, while any process
    has it open."""
    folder = _existing(config, name)
    with hold_whole(folder, role=DELETING) as held:
        if sys.platform == "win32":  # Windows deletes no open file (nor a holder's)
            held.release()
        shutil.rmtree(folder)


def rename_workspace(config: Config, old: str, new: str) -> None:
    """Rename a workspace; refused, naming it, while any process has it open."""
    source = _existing(config, old)
    target = workspace_dir(config, new)
    if target.exists():
        raise WorkspaceError(f"A workspace named '{new}' already exists.")
    with hold_whole(source, role=RENAMING) as held:
        if sys.platform == "win32":  # Windows renames no folder with a file open in it
            held.release()
        source.rename(target)


def _existing(config: Config, name: str) -> Path:
    folder = workspace_dir(config, name)
    if not folder.is_dir():
        raise WorkspaceError(
            f"There is no workspace named '{name}'. Existing workspaces: "
            f"{', '.join(list_workspaces(config)) or 'none'}."
        )
    return folder
