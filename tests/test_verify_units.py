"""The claim check's word rules, without models: terms are the sources' own words, stemmed."""

from __future__ import annotations

from fakes import HashEmbedder

from rag.answer.evidence import split_sources
from rag.answer.verify import check_claims
from rag.types import Claim, Hit, Passage

SOURCES = (
    "Two hundred forty-eight of 11,399 (2.2%) tested positive for HBoV1 infection.",
    "Alphaviruses are positive-strand RNA viruses of the Togaviridae family. The patient was "
    "discharged home on warfarin.",
)


def check(answer: str) -> list[Claim]:
    embedder = HashEmbedder()
    hits = [
        Hit(Passage(n, f"/docs/source{n}.txt", None, 0, len(t), t), 0.5)
        for n, t in enumerate(SOURCES, 1)
    ]
    return check_claims(answer, "What was found?", split_sources(hits, embedder), embedder)


def test_a_name_with_digits_is_one_word_as_in_the_sources() -> None:
    [claim] = check("Of 11,399 children, 248 (2.2%) tested positive for HBoV1.")
    assert claim.status == "unsupported" and claim.reason == "248 appears in no source"
    [claim] = check("Two hundred forty-eight of 11,399 (2.2%) tested positive for HBoV1 infection.")
    assert (claim.status, claim.citations) == ("supported", (1,))


def test_terms_meet_by_stem_not_by_prefix() -> None:
    [claim] = check("The patient was discharging home on warfarin.")
    assert claim.status == "supported"
    [claim] = check("Alphaviruses are positive-strand RNA viruses of the Togavirus family.")
    assert claim.status == "unsupported" and claim.reason == '"Togavirus" appears in no source'


def test_each_claim_carries_its_span_in_the_answer() -> None:
    answer = "Alphaviruses are RNA viruses [2]. The patient was discharged home on warfarin."
    claims = check(answer)
    assert [answer[c.start : c.end] for c in claims] == [
        "Alphaviruses are RNA viruses [2].",
        "The patient was discharged home on warfarin.",
    ]
