"""Workspaces: one folder per matter, patient or project under the data dir.

Each workspace has its own documents, index, history, audit log and settings;
nothing is shared between them, so a question in one can never reach another's
passages, and deleting a workspace deletes every file it had. A workspace can be
encrypted, at creation only (``rag.store.vault``).
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from rag.config import Config
from rag.errors import WorkspaceError
from rag.store.atomic import write_atomic
from rag.store.vault import Vault, create_vault

DEFAULT_WORKSPACE = "default"
SETTINGS_NAME = "workspace.json"
_VALID_NAME = re.compile(r"^[\w][\w .,()'&+-]{0,63}$")


@dataclass(frozen=True, slots=True)
class WorkspaceSettings:
    """Settings that belong to one workspace rather than to the whole app."""

    # Record every question, answer and source in the workspace's audit log.
    audit_log: bool = False


def read_settings(folder: Path) -> WorkspaceSettings:
    path = folder / SETTINGS_NAME
    if not path.exists():
        return WorkspaceSettings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkspaceError(
            f"The workspace settings {path} are unreadable ({exc}). Fix or delete the file."
        ) from exc
    known = {f.name for f in fields(WorkspaceSettings)}
    if not isinstance(data, dict) or set(data) - known:
        raise WorkspaceError(
            f"The workspace settings {path} hold unknown settings; a newer Hushdoc may have "
            "written them. Update Hushdoc."
        )
    if not all(isinstance(v, bool) for v in data.values()):
        raise WorkspaceError(f"The workspace settings {path} are invalid: expected true or false.")
    return WorkspaceSettings(**data)


def save_settings(folder: Path, settings: WorkspaceSettings) -> None:
    write_atomic(folder / SETTINGS_NAME, json.dumps(asdict(settings), indent=2).encode("utf-8"))


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
    folder.mkdir(parents=True)
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
    """Delete a workspace and every file in it."""
    folder = _existing(config, name)
    shutil.rmtree(folder)


def rename_workspace(config: Config, old: str, new: str) -> None:
    source = _existing(config, old)
    target = workspace_dir(config, new)
    if target.exists():
        raise WorkspaceError(f"A workspace named '{new}' already exists.")
    source.rename(target)


def _existing(config: Config, name: str) -> Path:
    folder = workspace_dir(config, name)
    if not folder.is_dir():
        raise WorkspaceError(
            f"There is no workspace named '{name}'. Existing workspaces: "
            f"{', '.join(list_workspaces(config)) or 'none'}."
        )
    return folder
