"""The ``hushdoc`` command line: ``main`` assembles the parser; each command group is a module.

- ``main``: the parser, the handler call, errors as one line on stderr, exit codes.
- ``command``: what the command modules share (common options, handler, exit code).
- ``documents``: index, list, remove, check, prepare.
- ``ask``: one question streamed, or a batch as JSON lines.
- ``workspaces``: the workspaces command.  ``audit``: the audit log (on, off, status,
  export, verify).
- ``evaluate``: eval retrieval and eval qa.  ``bench``: the speed and memory bench.
- ``workspace``: opening a workspace, with its passphrase.  ``progress_bar``,
  ``terminal``: what the terminal shows, and shown safely.
"""
