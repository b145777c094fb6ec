"""Copied answers (rag.answer.copied, rag.answer.mode): the grammar llama.cpp runs, the span
the model's copy maps back to, and the mode chosen for a model's size. No model runs here
(test_engine_units copies through ``ask`` with a scripted model)."""

from __future__ import annotations

import pytest
from llama_cpp import LlamaGrammar

from app.transcript import HIGHLIGHT, render_copied
from rag.answer.copied import copied_span, copy_grammar, offered
from rag.answer.mode import chosen_mode
from rag.answer.prompt import build_messages, copy_messages
from rag.types import Answer, Citation

TEXT = "Anticoagulation plan\nThe target INR for this patient is 2.0 to 3.0, with a goal of 2.5."
# The passage as a page holds it: from offset 100 of page 1.
PASSAGE = Citation(
    n=2, path="/docs/discharge.pdf", page=1, start=100, end=100 + len(TEXT), text=TEXT
)
OTHER = Citation(
    n=1, path="/docs/nda.pdf", page=2, start=0, end=28, text="See [12] for the (3) details."
)


def test_the_grammar_offers_runs_of_words_of_each_passage_and_llama_cpp_parses_it() -> None:
    grammar = copy_grammar([PASSAGE, OTHER])
    LlamaGrammar.from_string(grammar, verbose=False)  # raises on a malformed grammar
    assert '" [2]"' in grammar and '" [1]"' in grammar
    assert '"2.0"' in grammar and '"goal"' in grammar
    # A reference or a list number begins no answer, nor do the last two words (a copy holds
    # three at least): of OTHER's, "See", "for" and "the" may.
    starts = next(line for line in grammar.splitlines() if line.startswith("p1 ::="))
    assert starts == "p1 ::= p1w0r2 | p1w2r2 | p1w3r2"


def test_the_grammar_grows_linearly_with_the_passage() -> None:
    def rules(words: int) -> int:
        text = " ".join(f"w{i}" for i in range(words))
        return len(copy_grammar([Citation(1, "/d.txt", None, 0, len(text), text)]).splitlines())

    assert rules(300) - rules(200) == rules(200) - rules(100) == 300
    # Per word: its rule, and its two "then at least one or two more words" rules.
    assert rules(100) - rules(50) == 3 * 50


def test_a_copy_maps_back_to_its_exact_span_of_the_page() -> None:
    span = copied_span("The target INR for this patient is 2.0 to 3.0, [2]", [OTHER, PASSAGE])
    assert span is not None and span.n == 2 and (span.path, span.page) == (PASSAGE.path, 1)
    assert span.text == "The target INR for this patient is 2.0 to 3.0,"
    assert TEXT[span.start - 100 : span.end - 100] == span.text
    # Words the passage does not hold in that order, or another passage's marker: no copy.
    assert copied_span("target INR is 2.5 [2]", [PASSAGE]) is None
    assert copied_span("The target INR [1]", [PASSAGE]) is None
    assert copied_span("The target INR", [PASSAGE]) is None  # stopped before its marker


def test_the_copy_is_marked_inside_its_sentence() -> None:
    span = copied_span("2.0 to 3.0, [2]", [PASSAGE])
    assert span is not None
    answer = Answer(
        "q", "2.0 to 3.0, [2]", False, (), (), key_passages=(OTHER, PASSAGE), copied=span
    )
    assert answer.marked_quote() == (
        "Anticoagulation plan The target INR for this patient is **2.0 to 3.0,** with a goal "
        "of 2.5."
    )
    assert answer.other_key_passages == (OTHER,)
    elsewhere = Answer("q", "2.0 to 3.0, [2]", False, (), (), key_passages=(OTHER,), copied=span)
    assert elsewhere.marked_quote() is None and elsewhere.other_key_passages == (OTHER,)
    html = render_copied(3, answer)
    assert f'<span style="{HIGHLIGHT}">2.0 to 3.0,</span>' in html and "cite:3/a0" in html


def test_a_long_passage_is_offered_up_to_its_word_limit() -> None:
    cut = offered(PASSAGE, limit=4)
    assert cut.text == "Anticoagulation plan\nThe target" and cut.end == 100 + len(cut.text)
    assert offered(PASSAGE) is PASSAGE


@pytest.mark.parametrize(
    ("setting", "parameters", "mode"),
    [
        ("auto", 134_515_008, "copy"),
        ("auto", 999_999_999, "copy"),
        ("auto", 7_615_616_512, "generate"),
        ("auto", None, "generate"),
        ("generate", 134_515_008, "generate"),
        ("copy", 7_615_616_512, "copy"),
        ("extractive", None, "extractive"),
    ],
)
def test_the_mode_follows_the_model_s_size_unless_set(setting, parameters, mode) -> None:
    chosen = chosen_mode(setting, parameters)
    assert chosen.mode == mode and chosen.reason


def test_the_wording_that_differs_by_family_is_applied_in_one_place() -> None:
    for build in (
        lambda family: copy_messages("target INR?", [PASSAGE], family=family),
        lambda family: build_messages("target INR?", [], family=family),
    ):
        assert build("Qwen 3")[0]["content"].endswith("Question: target INR? /no_think")
        assert build("SmolLM2")[0]["content"].endswith("Question: target INR?")
        assert build(None)[0]["content"].endswith("Question: target INR?")
