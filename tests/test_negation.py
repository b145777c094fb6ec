"""Negation scopes: what a text denies, and when a claim and a source disagree about it."""

from __future__ import annotations

from rag.text.negation import contradiction, polarity
from rag.text.words import stem


def test_a_cue_denies_its_clause_up_to_a_few_words() -> None:
    p = polarity("Confidential Information does not include information that is public, or known.")
    assert {stem("include"), stem("public")} <= p.denied
    assert stem("known") in p.stated and stem("confidential") in p.stated
    # Before a comparative a cue sets a bound: "no less than" is "at least".
    assert polarity("in no event less than $5,000,000 per claim").denied == set()
    # "No." before a number is a number sign.
    assert polarity("Case No. 21-50498 was filed.").denied == set()


def test_a_claim_must_not_state_what_the_source_denies_or_deny_what_it_states() -> None:
    source = polarity("No Party shall disclose protected health information under this Agreement.")
    assert contradiction(polarity("Each Party may disclose protected health information."), source)
    walking = polarity("Blood pressure 128/76 mmHg. Walking independently.")
    assert contradiction(polarity("She was not walking independently."), walking) in {
        stem("walking"),
        stem("independently"),
    }
    assert (
        contradiction(polarity("No Party may disclose protected health information."), source)
        is None
    )


def test_negations_worded_differently_agree() -> None:
    source = polarity("Salt and sugars should not be added to complementary foods.")
    assert (
        contradiction(polarity("No salt or sugar should be added to complementary foods."), source)
        is None
    )
    staff = polarity("None of the staff of the radiology department were infected.")
    assert (
        contradiction(polarity("No staff of the radiology department were infected."), staff)
        is None
    )
