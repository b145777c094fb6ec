"""The claim check without models: terms are the sources' own words, stemmed; one source sentence
must hold a claim, and its numbers, names, directions and negation must agree."""

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


# -- one source sentence must hold a claim, and nothing in it say otherwise ---------------

DISCHARGE = (
    "Warfarin was started at 5 mg daily with enoxaparin bridging. Her INR on the day of "
    "discharge was 2.1.\nAnticoagulation plan\nThe target INR for this patient is 2.0 to 3.0, "
    "with a goal of 2.5.",
    "Metoprolol succinate 50 mg by mouth once daily, for heart rate control. Lisinopril 10 mg "
    "by mouth once daily, for blood pressure.",
    "Follow-up\nAnticoagulation clinic: 12 March 2025, for an INR check. Cardiology clinic with "
    "Dr. Priya Nair: 2 April 2025, to review rhythm control.",
)
NDA = (
    "Mutual Non-Disclosure Agreement\nThis is a fictional agreement written for the Hushdoc "
    "sample workspace. This Agreement is governed by the laws of the State of Oregon.",
    "No Party shall disclose protected health information under this Agreement. If the Parties "
    "later need to exchange it, they shall first sign a business associate agreement.",
)
STUDIES = (
    "The mean duration for NPPV failure and IMV failure were 30.8 hours and 6.2 days, "
    "respectively. As at 21 February, nine countries had reported cases: Belgium (1), "
    "France (12), Germany (16). The time to hospitalisation ranged between 0 and 10 days.",
    "Listeria species are Gram-positive intracellular food-borne pathogens. The "
    "transmissibility of MERS is much lower than SARS.",
    "Bacteria such as E. coli and lactic acid bacteria have recently gained favour as vectors. "
    "They are also a much safer option than traditional attenuated vaccines in children and "
    "immunecompromised people.",
)


def check_in(sources: tuple[str, ...], answer: str) -> list[Claim]:
    embedder = HashEmbedder()
    hits = [
        Hit(Passage(n, f"/docs/source{n}.pdf", 1, 0, len(t), t), 0.5)
        for n, t in enumerate(sources, 1)
    ]
    return check_claims(answer, "What does it say?", split_sources(hits, embedder), embedder)


def test_a_claim_is_held_by_one_sentence_not_by_the_words_of_several() -> None:
    [held] = check_in(DISCHARGE, "Her INR on the day of discharge was 2.1 [2].")
    assert (held.status, held.citations) == ("supported", (1,))
    # 2.1 and 3.0 are both in source 1, in two sentences: no sentence states the range.
    [merged] = check_in(DISCHARGE, "The INR at discharge was 2.1 to 3.0.")
    assert merged.status == "unsupported"
    assert merged.reason in {
        "2.1 is not in the source sentence this restates",
        "3.0 is not in the source sentence this restates",
        "2.1 to 3 is no range the sources state",
    }
    # The purpose of the next drug.
    [purpose] = check_in(
        DISCHARGE, "Metoprolol succinate 50 mg by mouth daily, for blood pressure."
    )
    assert purpose.status == "unsupported"
    assert purpose.reason == '"blood" is from another source sentence than the one this restates'
    [right] = check_in(
        DISCHARGE, "Metoprolol succinate 50 mg by mouth daily, for heart rate control."
    )
    assert right.status == "supported"


def test_numbers_are_values_and_a_range_end_is_no_value() -> None:
    [spelled] = check_in(DISCHARGE, "The target INR for this patient is 2 to 3.")
    assert spelled.status == "supported"
    [end] = check_in(STUDIES, "The time to hospitalisation was 10 days.")
    assert (end.status, end.reason) == ("unsupported", "10 is one end of a range in the sources")
    [unit] = check_in(STUDIES, "The mean duration of IMV failure was 6.2 hours.")
    assert (unit.status, unit.reason) == (
        "unsupported",
        "the sources count 6.2 in day, not hour",
    )


def test_how_often_a_dose_is_taken_is_a_number() -> None:
    [once] = check_in(DISCHARGE, "Metoprolol succinate 50 mg is taken by mouth once daily.")
    assert once.status == "supported"
    [twice] = check_in(DISCHARGE, "Metoprolol succinate 50 mg is taken by mouth twice daily.")
    assert (twice.status, twice.reason) == (
        "unsupported",
        "twice is not in the source sentence this restates",
    )
    [bid] = check_in(
        ("Metoprolol succinate 50 mg by mouth BID, for rate control.",),
        "Metoprolol succinate 50 mg is taken once daily.",
    )
    assert (bid.status, bid.reason) == (
        "unsupported",
        "once is not in the source sentence this restates",
    )


def test_a_number_is_said_of_the_name_beside_it() -> None:
    [swapped] = check_in(STUDIES, "As at 21 February, Germany had reported 12 cases.")
    assert swapped.status == "unsupported"
    assert swapped.reason == "the sources say 12 of something else than germani"
    [right] = check_in(STUDIES, "As at 21 February, Germany had reported 16 cases.")
    assert right.status == "supported"


def test_directions_and_opposites_must_agree() -> None:
    [higher] = check_in(STUDIES, "The transmissibility of MERS is much higher than SARS.")
    assert (higher.status, higher.reason) == (
        "unsupported",
        '"higher" is not in the source sentence this restates',
    )
    [negative] = check_in(STUDIES, "Listeria species are Gram-negative food-borne pathogens.")
    assert (negative.status, negative.reason) == (
        "unsupported",
        'the sources say "positive", not "negative"',
    )


def test_a_claim_must_not_drop_or_add_a_negation() -> None:
    [dropped] = check_in(NDA, "Each Party may disclose protected health information.")
    assert dropped.status == "unsupported"
    assert (dropped.reason or "").startswith("the sources say the opposite about")
    [kept] = check_in(NDA, "No Party may disclose protected health information.")
    assert kept.status == "supported"


def test_meta_text_and_broken_sentences_are_no_answer() -> None:
    [about] = check_in(NDA, "The sources are documents to read, not instructions to follow.")
    assert (about.status, about.reason) == (
        "unsupported",
        "it speaks of the sources, not of what they say",
    )
    [notice] = check_in(
        NDA, "The governing law is a fictional document written for the Hushdoc sample workspace."
    )
    assert notice.status == "unsupported" and "another source sentence" in (notice.reason or "")
    [broken] = check_in(NDA, "The law governing this agreement is.")
    assert broken.status == "uncited"
    [law] = check_in(NDA, "The Agreement is governed by the laws of the State of Oregon.")
    assert law.status == "supported"


def test_a_sentence_is_read_with_its_heading_and_its_pronoun_s_referent() -> None:
    [heading] = check_in(
        DISCHARGE, "The cardiology follow-up with Dr. Priya Nair is on 2 April 2025."
    )
    assert heading.status == "supported"
    [wrong_date] = check_in(DISCHARGE, "The cardiology follow-up is on 12 March 2025.")
    assert wrong_date.status == "unsupported"
    [pronoun] = check_in(
        STUDIES,
        "E. coli and lactic acid bacteria are a much safer option than traditional attenuated "
        "vaccines in children and immunocompromised people.",
    )
    # "They" names E. coli and lactic acid bacteria; "immunocompromised" is a spelling variant.
    assert pronoun.status == "supported"


def test_a_pronoun_s_referent_comes_from_the_answer_s_sentence_before() -> None:
    claims = check_in(DISCHARGE, "What is the target INR for this patient? It is 2.0 to 3.0.")
    assert [c.status for c in claims] == ["uncited", "supported"]
    claims = check_in(DISCHARGE, "What is the target INR for this patient? It is 2.1 to 3.0.")
    assert [c.status for c in claims] == ["uncited", "unsupported"]
