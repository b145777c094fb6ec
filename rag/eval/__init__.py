"""Evaluation: ``hushdoc eval`` measures retrieval (``retrieval``, BEIR sets), answers (``qa``)
and the claim check (``claims``) on labelled data, scored by the pure functions of
``metrics``; ``selftest`` checks an installation end to end; ``bench`` measures speed
against the bare libraries."""
