"""``hushdoc audit``: a workspace's audit log switched on or off, its status, its export,
and its verification (``verify``: exit status 1 if it shows tampering or damage)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.cli.command import EXIT_ERROR, Commands, CommonOptions
from rag.cli.workspace import open_engine
from rag.config import Config
from rag.store import audit
from rag.store.atomic import write_atomic
from rag.store.audit_verify import Finding, Verification, verify_log


def add_audit_command(commands: Commands, options: CommonOptions) -> None:
    audit_log = commands.add_parser(
        "audit",
        parents=[options.workspace, options.as_json],
        help="switch on, off, export or verify the workspace's audit log",
    )
    audit_log.add_argument("action", choices=["on", "off", "status", "export", "verify"])
    audit_log.add_argument(
        "--format", choices=["csv", "json"], default="csv", help="export format (default: csv)"
    )
    audit_log.add_argument("--out", type=Path, metavar="FILE", help="export to FILE, not stdout")
    audit_log.set_defaults(handler=run_audit)


def run_audit(args: argparse.Namespace, config: Config) -> int:
    with open_engine(config, args.workspace) as engine:
        folder, vault = engine.folder, engine.vault
    if args.action in ("on", "off"):
        changed = audit.set_audit_log(folder, args.workspace, on=args.action == "on", vault=vault)
        state = "was already" if not changed else "is now"
        print(f"The audit log of workspace '{args.workspace}' {state} {args.action}.")
        return 0
    checked = verify_log(folder, vault=vault)
    if args.action == "verify":
        if args.json:
            print(json.dumps(checked.to_dict()))
        else:
            print_verification(checked, args.workspace)
        return 0 if checked.ok else EXIT_ERROR
    entries, skipped = audit.read_entries(folder, vault=vault)
    if skipped:
        print(f"hushdoc: skipped {skipped} unreadable line(s) of the audit log.", file=sys.stderr)
    if not checked.ok:
        print(
            f"hushdoc: warning: the audit log fails verification ({len(checked.problems)} "
            f"problem(s), first: {checked.problems[0].message}). Run 'hushdoc audit verify "
            f"-w {args.workspace}' for all of them.",
            file=sys.stderr,
        )
    if args.action == "status":
        state = "on" if audit.audit_log_on(folder, vault=vault) else "off"
        answers = sum(1 for e in entries if e.get("event") == "answer")
        path = audit.audit_path(folder, vault=vault)
        print(f"The audit log is {state}; it holds {answers} answer(s): {path}")
        return 0
    text = audit.export(entries, fmt=args.format)
    if args.out:
        write_atomic(args.out, text.encode("utf-8"))
        print(f"Exported {len(entries)} entries to {args.out}.")
        if vault is not None:
            print(f"hushdoc: note that {args.out} is not encrypted.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def print_verification(checked: Verification, workspace: str) -> None:
    if not checked.lines and not checked.problems:
        print(f"Workspace '{workspace}' has no audit log (it is off): nothing to verify.")
        return
    print(
        f"The audit log of workspace '{workspace}': {checked.path}\n"
        f"{checked.entries} entries on {checked.lines} line(s); the setting is "
        f"{'on' if checked.setting_on else 'off'}."
    )
    for finding in checked.problems:
        print(f"PROBLEM {_where(finding)}{finding.kind}: {finding.message}")
    for finding in checked.notes:
        print(f"note {_where(finding)}{finding.kind}: {finding.message}")
    if checked.ok:
        print(
            "No problem found: the entries are numbered without a gap, in order, each holds "
            "the hash of the one before, and no switch-off went unlogged."
        )
    else:
        print(f"The audit log fails verification: {len(checked.problems)} problem(s).")


def _where(finding: Finding) -> str:
    if not finding.lines:
        return ""
    lines = ", ".join(str(n) for n in finding.lines)
    return f"(line{'s' if len(finding.lines) > 1 else ''} {lines}) "
