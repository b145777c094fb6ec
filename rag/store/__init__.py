"""Store: one workspace on disk. SQLite is the truth (documents, passages, FTS5 kept in
step by triggers); FAISS is a cache rebuilt from it (``vectors``); files are written
atomically (``atomic``), plain or sealed by the workspace's key (``files``, ``vault``).
Beside the index: workspaces and their settings (``workspace``), the chat history
(``history``) and the optional audit log (``audit``; its numbered, hash-chained lines in
``audit_chain``, their check in ``audit_verify``). ``crash_points`` is the crash tests' hook."""
