"""Numbers as values: spellings, ranges, and the digits of names, which count nothing."""

from __future__ import annotations

from rag.text.numbers import quantities, value


def test_one_value_in_any_spelling() -> None:
    assert value("2") == value("2.0") == value("two") == 2.0
    assert value("2,000") == 2000.0 and value("2,5") == 2.5
    assert quantities("two (2) years and thirty (30) days").values == {2.0, 30.0}


def test_a_range_is_two_numbers_joined_as_one_not_two_numbers_stated_apart() -> None:
    inr = quantities("The target INR is 2.0 to 3.0, with a goal of 2.5.")
    assert inr.ranges == {(2.0, 3.0)} and inr.alone == {2.5}
    assert quantities("Her INR was 2.1. It must stay under 3.0.").ranges == set()
    assert quantities("R0: 2.7-3.4 or 2-4; 1−2 times").ranges == {
        (2.7, 3.4),
        (2.0, 4.0),
        (1.0, 2.0),
    }
    spans = quantities("between 0 and 10 days, with 2 days and 4.8 days")
    assert spans.ranges == {(0.0, 10.0)} and spans.alone == {2.0, 4.8}


def test_the_digits_of_a_name_count_nothing() -> None:
    named = quantities("HAdV-55 in COVID-19 (2019-nCoV), CD8 cells, type 2 diabetes, Section 14.1")
    assert named.values == set()
    assert quantities("Her CHA2DS2-VASc score is 4").values == {4.0}
    # Units and ordinals stuck to a number, or a number stuck to a lower-case word, count.
    assert quantities("5mg on the 15th; of whom13,701 are observed").values == {5.0, 15.0, 13701.0}


def test_how_often_is_a_number_of_times() -> None:
    assert quantities("Metformin 1000 mg by mouth twice daily").values == {1000.0, 2.0}
    assert quantities("50 mg once a day; 25 mg BID; 5 mg t.i.d.").values == {
        50.0,
        1.0,
        25.0,
        2.0,
        5.0,
        3.0,
    }
    # "once" as a conjunction, and "bid" as an everyday word, count nothing.
    assert quantities("Enoxaparin was stopped once the INR was above 2.0").values == {2.0}
    assert quantities("a bid for the contract").values == set()
