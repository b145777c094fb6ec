"""The fakes keep the promises of the protocols they implement, and behave enough like
the real models for the fast tests to mean something."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fakes import HashEmbedder, ScriptedGenerator

TEXTS = [
    "Warfarin 5 mg by mouth once daily, adjusted to the INR.",
    "Take warfarin once daily; the INR decides the dose.",
    "Visiting hours on the cardiology ward are from 2 pm to 8 pm.",
    "",
    "the of and",
]


def test_vectors_are_unit_length_float32_rows_even_for_empty_text():
    embedder = HashEmbedder(dimension=64)
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 64) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert embedder.embed([]).shape == (0, 64)
    assert embedder.embedded_texts == len(TEXTS)
    cancelled = HashEmbedder(dimension=2).embed(["w0 w4"])  # one bucket, opposite signs
    assert np.allclose(np.linalg.norm(cancelled, axis=1), 1.0)


def test_texts_sharing_words_are_closer_than_unrelated_ones():
    same, paraphrase, unrelated = HashEmbedder().embed(TEXTS[:3])
    assert same @ paraphrase > 0.4 > 0.1 > abs(same @ unrelated)
    again = HashEmbedder().embed(TEXTS[:1])[0]
    assert np.array_equal(same, again)


def test_vectors_are_the_same_in_every_process():
    """Python's own str hash changes with PYTHONHASHSEED; the fake's must not."""
    probe = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        "from fakes import HashEmbedder; "
        f"sys.stdout.buffer.write(HashEmbedder().embed({TEXTS[:1]!r}).tobytes())"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", probe],
            env=dict(os.environ, PYTHONHASHSEED=seed),
            capture_output=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert runs == {HashEmbedder().embed(TEXTS[:1]).tobytes()}


def test_token_spans_are_words_and_punctuation_marks():
    text = "Warfarin 5 mg, daily."
    [spans] = HashEmbedder().token_spans([text])
    assert [text[s:e] for s, e in spans] == ["Warfarin", "5", "mg", ",", "daily", "."]


def test_the_scripted_generator_streams_each_reply_in_turn_and_records_its_prompts():
    generator = ScriptedGenerator("First answer [1].", "Second  answer.")
    prompt = generator.render([{"role": "user", "content": "What? [1]"}])
    assert "What? [1]" in prompt and generator.count_tokens("What? [1]") == 5
    first = list(generator.stream("one", max_tokens=100))
    assert first == ["First ", "answer ", "[1]."]
    assert "".join(generator.stream("two", max_tokens=100, grammar="root ::= x")) == (
        "Second  answer."
    )
    assert "".join(generator.stream("three", max_tokens=100)) == "Second  answer."  # the last
    assert generator.prompts == ["one", "two", "three"]
    assert generator.grammars == [None, "root ::= x", None]


def test_the_scripted_generator_stops_at_max_tokens_or_when_told():
    generator = ScriptedGenerator("one two three four five")
    assert list(generator.stream("p", max_tokens=2)) == ["one ", "two "]
    streamed: list[str] = []
    for piece in generator.stream("p", max_tokens=100, should_stop=lambda: len(streamed) == 3):
        streamed.append(piece)
    assert streamed == ["one ", "two ", "three "] and generator.stopped_after == 3


def test_a_scripted_generator_needs_a_reply():
    with pytest.raises(ValueError, match="at least one reply"):
        ScriptedGenerator()
