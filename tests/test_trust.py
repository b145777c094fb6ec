"""Key passages, claim checking and citation markers, with the real embedding model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import final_answer, run_index

from rag.answer.cite import citation_grammar, clean_markers, mark_claims
from rag.answer.evidence import excerpts, key_passages, quote_passages, split_sources
from rag.answer.prompt import build_messages
from rag.answer.verify import check_claims
from rag.config import Config
from rag.engine import Engine
from rag.retrieve.search import Retriever
from rag.text.words import coverage, stem, terms
from rag.types import Answer, Evidence, Hit, Passage

pytestmark = pytest.mark.slow

MEDS = (
    "Discharge medications\nWarfarin 5 mg by mouth once daily in the evening; the dose will be "
    "adjusted by the anticoagulation clinic according to the INR. Metoprolol succinate 50 mg by "
    "mouth once daily, for heart rate control."
)
PLAN = (
    "The target INR for this patient is 2.0 to 3.0, with a goal of 2.5. The INR must be checked "
    "at the anticoagulation clinic on 12 March 2025 and then weekly until it is stable."
)
NDA = (
    "This Agreement is governed by the laws of the State of Oregon, without regard to its "
    "conflict of laws rules. Each Party submits to the courts of Multnomah County."
)
QUESTION_INR = "What is the target INR for this patient?"


def hits(*texts: str) -> list[Hit]:
    return [
        Hit(Passage(n, f"/docs/source{n}.pdf", 1, 100 * n, 100 * n + len(t), t), 0.5)
        for n, t in enumerate(texts, 1)
    ]


def claims_for(answer: str, embedder, question: str = "What is the plan?"):
    sources = hits(MEDS, PLAN, NDA)
    return check_claims(answer, question, split_sources(sources, embedder), embedder)


def test_a_claim_a_source_holds_is_supported_and_cites_it(embedder):
    [claim] = claims_for("Warfarin is taken at 5 mg by mouth once daily [1].", embedder)
    assert claim.status == "supported" and claim.citations == (1,)


def test_a_wrong_dose_is_unsupported_and_says_which_number(embedder):
    [claim] = claims_for("Warfarin is taken at 7 mg by mouth once daily [1].", embedder)
    assert claim.status == "unsupported"
    assert claim.reason == "7 appears in no source" and claim.citations == ()


def test_another_drugs_dose_is_unsupported(embedder):
    # 50 mg is in the sources, but as metoprolol's dose, not warfarin's.
    [claim] = claims_for("Warfarin is taken at 50 mg by mouth once daily [1].", embedder)
    assert claim.status == "unsupported"
    assert claim.reason == "50 is not in the source sentence this restates"


def test_a_wrong_date_is_unsupported(embedder):
    [claim] = claims_for("The INR must be checked on 21 March 2025 [2].", embedder)
    assert claim.status == "unsupported" and "21" in (claim.reason or "")


def test_a_drug_no_source_names_is_unsupported(embedder):
    [claim] = claims_for("The patient was discharged on apixaban once daily.", embedder)
    assert claim.status == "unsupported" and "apixaban" in (claim.reason or "")


def test_same_number_in_another_spelling_is_accepted(embedder):
    [claim] = claims_for("The target INR is 2 to 3 with a goal of 2.50.", embedder)
    assert claim.status == "supported" and claim.citations == (2,)


def test_a_wrong_citation_is_corrected_to_the_source_that_holds_the_claim(embedder):
    [claim] = claims_for("The laws of the State of Oregon govern this Agreement [1].", embedder)
    assert claim.status == "supported" and claim.citations == (3,)


def test_a_lead_in_is_uncited_and_an_unrelated_claim_unsupported(embedder):
    claims = claims_for("Yes. Cats sleep most hours of every day.", embedder)
    assert [c.status for c in claims] == ["uncited", "unsupported"]
    assert claims[1].reason == "no source says this"


def test_a_list_number_is_uncited_but_a_bare_number_answer_is_checked(embedder):
    claims = claims_for("1. The target INR for this patient is 2.0 to 3.0.", embedder)
    assert [c.status for c in claims] == ["uncited", "supported"]
    assert [c.status for c in claims_for("7.", embedder)] == ["unsupported"]


def test_a_repeated_question_is_uncited_not_supported(embedder):
    claims = claims_for("What is the target INR for this patient [2]? It is 2.0 to 3.0.", embedder)
    assert [c.status for c in claims] == ["uncited", "supported"]


def test_markers_are_rewritten_and_strict_mode_drops_unsupported_sentences(embedder):
    text, dropped = clean_markers(
        "Warfarin is taken at 5 mg by mouth once daily. [2][7] It is 50 mg on Sundays.", 3
    )
    assert dropped == 1
    assert text == "Warfarin is taken at 5 mg by mouth once daily [2]. It is 50 mg on Sundays."
    claims = claims_for(text, embedder)
    assert [c.status for c in claims] == ["supported", "unsupported"]
    assert mark_claims(text, claims) == (
        "Warfarin is taken at 5 mg by mouth once daily [1]. It is 50 mg on Sundays."
    )
    assert mark_claims(text, claims, strict=True) == (
        "Warfarin is taken at 5 mg by mouth once daily [1]."
    )


def test_key_passage_is_the_sentence_that_answers_with_its_exact_span(embedder):
    sources = hits(MEDS, PLAN, NDA)
    query = embedder.embed(["What is the target INR?"])[0]
    weights = {stem("target"): 2.0, stem("inr"): 3.0}
    [first, *_] = key_passages(query, sources, split_sources(sources, embedder), weights)
    assert first.n == 2
    assert first.text == "The target INR for this patient is 2.0 to 3.0, with a goal of 2.5."
    assert PLAN[first.start - 200 : first.end - 200] == first.text
    assert quote_passages([first]) == f'"{first.text}" [2]'


def test_the_model_reads_excerpts_around_the_best_sentences_as_real_spans(embedder):
    admission = (
        "The patient was admitted on 3 March 2025 with atrial fibrillation. Echocardiography "
        "showed a normal left ventricular ejection fraction. The target INR for this patient is "
        "2.0 to 3.0, with a goal of 2.5. The INR must be checked weekly at the anticoagulation "
        "clinic. Visiting hours on the ward are from 2 pm to 8 pm every day."
    )
    sources = hits(MEDS, admission, NDA)
    query = embedder.embed(["What is the target INR?"])[0]
    sentences = split_sources(sources, embedder)
    weights = {stem("target"): 2.0, stem("inr"): 3.0}
    [best], read = excerpts(query, sources, sentences, weights, limit=1)
    # The answering sentence with the one before and the one after it, nothing more.
    assert best.passage.text.startswith("Echocardiography showed")
    assert best.passage.text.endswith("at the anticoagulation clinic.")
    assert admission[best.passage.start - 200 : best.passage.end - 200] == best.passage.text
    assert (best.passage.path, best.score) == (sources[1].passage.path, sources[1].score)
    # More excerpts never repeat a sentence: windows that meet in one passage are merged.
    # The excerpt's sentences are slices of the one split, renumbered and re-based.
    assert [s.text for s in read.sentences] == [
        best.passage.text[s.start : s.end] for s in read.sentences
    ]
    assert {s.source for s in read.sentences} == {1} and len(read) == 3
    more, _ = excerpts(query, sources, sentences, weights, limit=3)
    assert more[0].passage.start <= best.passage.start and more[0].passage.end >= best.passage.end
    spans = sorted((h.passage.path, h.passage.start, h.passage.end) for h in more)
    assert all(
        path != next_path or end < start
        for (path, _, end), (next_path, start, _) in zip(spans, spans[1:], strict=False)
    )


def test_evidence_comes_before_the_generated_text(hushdoc_home, embedder, generator, docs):
    # Free writing, as a model of 1B parameters or more does (the bundled one copies).
    config = Config(data_dir=hushdoc_home, answer_mode="generate")
    with Engine(config, "g", create=True, embedder=embedder, generator=generator) as engine:
        run_index(engine, [docs / "discharge-summary.pdf"])
        items = list(engine.ask(QUESTION_INR))
        assert isinstance(items[0], Evidence) and isinstance(items[-1], Answer)
        assert all(isinstance(i, str) for i in items[1:-1])
        key = items[0].key_passages[0]
        assert "target INR" in key.text and key.page == 1
        assert items[-1].key_passages == items[0].key_passages
        assert items[-1].claims, "a generated answer is checked sentence by sentence"
        # The model read excerpts around the best sentences, and they are the answer's sources.
        read = items[-1].sources
        assert 0 < len(read) <= 3 and key.text in read[0].text
        retrieved = Retriever(engine.store, engine.embedder).search(QUESTION_INR, k=10)
        around = [
            h.passage.text
            for h in retrieved
            if h.passage.path == read[0].path
            and h.passage.start <= read[0].start
            and read[0].end <= h.passage.end
        ]
        assert len(retrieved) > 3, "more passages were found than the model read"
        assert around and all(read[0].text in t for t in around)
        # The prompt that hushdoc bench times is the one the model read here.
        prompt = engine.prompt_for(QUESTION_INR)
        assert prompt.count("<source n=") == len(read) and all(s.text in prompt for s in read)


def test_extractive_mode_and_missing_model_answer_with_the_quoted_passage(
    hushdoc_home: Path, embedder, docs
):
    config = Config(data_dir=hushdoc_home, answer_mode="extractive")
    with Engine(config, "x", create=True, embedder=embedder) as engine:
        run_index(engine, [docs / "discharge-summary.pdf"])
        answer = final_answer(engine, "What is the target INR for this patient?")
    assert answer.mode == "extractive" and answer.claims == () and answer.notice is None
    assert "2.0 to 3.0" in answer.text and answer.citations[0].page == 1
    missing = Config(data_dir=hushdoc_home, generator_model=hushdoc_home / "gone.gguf")
    with Engine(missing, "x", embedder=embedder) as engine:
        answer = final_answer(engine, "What is the target INR for this patient?")
    assert answer.mode == "extractive" and "gone.gguf" in (answer.notice or "")
    assert "2.0 to 3.0" in answer.text


def test_under_the_citation_grammar_every_sentence_ends_with_a_real_marker(generator):
    sources = hits(MEDS, PLAN, NDA)
    messages = build_messages(
        "What medications was the patient discharged on?", [(h, h.passage.text) for h in sources]
    )
    grammar = citation_grammar(len(sources))
    text = "".join(generator.stream(generator.render(messages), max_tokens=120, grammar=grammar))
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", text)]
    assert numbers and set(numbers) <= {1, 2, 3}, text
    # A sentence ends (a stop before a space) only next to its markers: "... [2]. " or "... . [2]".
    for stop in re.finditer(r"[.!?](?=\s)", text):
        assert text[stop.start() - 1] == "]" or text[stop.end() :].startswith(" ["), text


def test_the_question_s_rare_words_decide_between_equally_close_sentences(embedder):
    sources = hits(
        "Idarucizumab is given for dabigatran before urgent surgery.",
        "An antidote can reverse blood thinners quickly in an emergency.",
    )
    query = embedder.embed(["Which antidote reverses dabigatran?"])[0]
    sentences = split_sources(sources, embedder)
    assert key_passages(query, sources, sentences, {}, limit=1)[0].n == 1
    weights = {stem("antidote"): 5.0, stem("dabigatran"): 1.0}
    assert key_passages(query, sources, sentences, weights, limit=1)[0].n == 2
    assert coverage(weights, terms(sources[1].passage.text)) == 5.0 / 6.0
