"""Runaway answers (issue 18): a loop is cut where it began, numbering is not a claim, and
many unsupported sentences fold into one line."""

from __future__ import annotations

from rag.answer.runaway import runaway_cut

LIST = "The agreement may be terminated under sections 1.1.2, 1.3.4, 1.4.1, 2.2, 2.9.1, 3.1, 3.4"


def test_an_enumerating_loop_is_cut_before_the_list():
    cut = runaway_cut(LIST)
    assert (
        cut is not None and LIST[:cut].rstrip() == "The agreement may be terminated under sections"
    )


def test_a_repeated_phrase_is_cut_before_its_second_time():
    loop = "Either party may terminate. " + "The agreement shall terminate on notice. " * 4
    cut = runaway_cut(loop)
    assert cut is not None
    assert loop[:cut] == "Either party may terminate. The agreement shall terminate on notice. "


def test_ordinary_answers_are_left_alone():
    for text in (
        "The target INR is 2.0 to 3.0, with a goal of 2.5 [1].",
        "Sections 4 and 5 apply: see 4.1, 4.2 and 5.3 of the agreement [2].",
        "Warfarin 5 mg daily; metoprolol 50 mg daily; lisinopril 10 mg daily [1].",
        "1. Warfarin 5 mg. 2. Metoprolol 50 mg. 3. Lisinopril 10 mg. 4. Metformin 1000 mg.",
        "The INR must be checked on 12 March 2025 and then weekly until stable [1]. The INR "
        "must be checked at the clinic [2].",
    ):
        assert runaway_cut(text) is None, text


def test_a_runaway_list_is_stopped_and_its_numbers_are_not_flagged_as_claims(tmp_path):
    from conftest import DATA, final_answer, run_index
    from fakes import HashEmbedder, ScriptedGenerator

    from rag.config import Config
    from rag.engine import Engine

    numbers = ", ".join(f"{a}.{b}.{c}" for a in range(1, 6) for b in range(1, 6) for c in (1, 2))
    reply = f"The Recipient must return the information [1]. Sections: {numbers}."
    generator = ScriptedGenerator(reply, parameters=7_000_000_000)  # a model that writes
    config = Config(data_dir=tmp_path, chunk_tokens=64, overlap_tokens=8, answer_mode="generate")
    with Engine(config, "w", create=True, embedder=HashEmbedder(), generator=generator) as engine:
        run_index(engine, [DATA / "mutual-nda.pdf"])
        answer = final_answer(engine, "What must the Recipient return?")
    assert answer.mode == "generate" and "1.1.1" not in answer.text
    assert answer.notice and "cut there" in answer.notice
    assert answer.text.startswith("The Recipient must return the information")
    assert not any(
        c.status == "unsupported" and not any(ch.isalpha() for ch in c.text) for c in answer.claims
    )
