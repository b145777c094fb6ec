"""One validated configuration object, saved as TOML.

``HUSHDOC_HOME`` redirects all data (and the config file) to one folder, which
is what the tests and the self-test use. Without it, data goes to the
platform's user data folder and the config file to its user config folder.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

import platformdirs
import tomli_w

from rag.errors import ConfigError
from rag.load.limits import (
    MAX_FILE_MB,
    MAX_PDF_PAGES,
    MAX_STREAM_MB,
    MAX_TEXT_CHARS,
    PARSE_MEMORY_MB,
    PARSE_TIMEOUT_S,
)
from rag.store.atomic import write_atomic
from rag.store.vectors import EXACT_SEARCH_MAX_VECTORS
from rag.types import AnswerSetting

APP_NAME = "hushdoc"
HOME_VARIABLE = "HUSHDOC_HOME"

ANSWER_MODES: tuple[AnswerSetting, ...] = get_args(AnswerSetting)

# all-MiniLM-L6-v2 reads at most 256 word pieces, two of them [CLS] and [SEP].
EMBEDDING_TOKEN_LIMIT = 254
# What runs the embedding model: sentence-transformers on torch (fp32), or ONNX Runtime
# with the graph in fp32 or int8. The int8 one is the default: see README, "Embedding backends".
EmbeddingBackend = Literal["torch", "onnx", "onnx-int8"]
EMBEDDING_BACKENDS: tuple[EmbeddingBackend, ...] = get_args(EmbeddingBackend)


def default_data_dir() -> Path:
    home = os.environ.get(HOME_VARIABLE)
    if home:
        return Path(home).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_path() -> Path:
    """Where the settings live: in ``HUSHDOC_HOME`` if set, else the user config folder."""
    home = os.environ.get(HOME_VARIABLE)
    if home:
        return Path(home).expanduser() / "config.toml"
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


@dataclass(frozen=True, slots=True)
class Config:
    """Every setting of the engine. Build it with keywords; it validates itself."""

    data_dir: Path = field(default_factory=default_data_dir)
    # None means the bundled model shipped as a Python package.
    embedding_model: Path | None = None
    embedding_backend: EmbeddingBackend = "onnx-int8"
    generator_model: Path | None = None
    chunk_tokens: int = 192
    overlap_tokens: int = 32
    embed_batch: int = 32
    # Passages retrieved. On covidqa-dev (801 questions) the best 8 hold the gold evidence
    # for 0.86 of questions, 10 for 0.89, 12 for 0.90; the key passage is as often right
    # from 10 as from 8 (0.63).
    top_k: int = 10
    # In "generate" mode the model reads the best sentences of the passages, each with the
    # sentence before and after it: this many excerpts (0: the whole passages). A 135M model
    # answers better from a few short excerpts than from whole passages; a 3B-8B model can
    # read whole passages.
    prompt_excerpts: int = 3
    context_tokens: int = 2048
    answer_tokens: int = 256
    threads: int = 0
    temperature: float = 0.0
    # Dense search compares the question with every passage up to this many passages; above,
    # it searches the nearest k-means cells only (approximate, faster; see rag.store.vectors).
    exact_search_max_vectors: int = EXACT_SEARCH_MAX_VECTORS
    # Relevance score (rag.retrieve.relevance) below which Hushdoc answers "not in your documents".
    # Chosen on covidqa-dev, cuad-dev and the natural-question sets (README, "The
    # trade-off"); lower it to abstain less, raise it to abstain more.
    min_relevance: float = 0.60
    # "auto": copied answers for a model under 1B parameters, free writing for larger ones
    # (rag.answer.mode); or one of "copy", "generate", "extractive" whatever the model.
    answer_mode: AnswerSetting = "auto"
    # Leave out generated sentences that no source supports.
    strict: bool = False
    # Constrain generation with a grammar: every sentence ends with a real source's marker.
    # Off: with the bundled model it moved no figure (covidqa-dev, first 200 questions:
    # citation precision 0.506 -> 0.510, answer_hit 0.065 -> 0.065, unsupported sentences
    # 0.673 -> 0.688), since the claim check sets each sentence's markers anyway.
    cite_grammar: bool = False
    # Per-file limits: a file over one is reported, not indexed (why these defaults:
    # rag.load.limits).
    max_file_mb: int = MAX_FILE_MB
    max_pdf_pages: int = MAX_PDF_PAGES
    max_text_chars: int = MAX_TEXT_CHARS
    max_stream_mb: int = MAX_STREAM_MB
    # Files are parsed in a child process (rag.load.child): one that makes no progress for
    # this long is stopped, and the child may use this much memory.
    parse_timeout_s: int = PARSE_TIMEOUT_S
    parse_memory_mb: int = PARSE_MEMORY_MB
    # Index a symbolic link whose target lies outside the folders being indexed (off: such a
    # link is skipped with its reason, so that a link cannot bring in a file from elsewhere).
    follow_links: bool = False

    def __post_init__(self) -> None:
        for name in ("data_dir", "embedding_model", "generator_model"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, Path(value).expanduser())
        if self.embedding_backend not in EMBEDDING_BACKENDS:
            raise ConfigError(
                f"Setting 'embedding_backend' is {self.embedding_backend!r}; it must be one of "
                f"{', '.join(repr(b) for b in EMBEDDING_BACKENDS)}."
            )
        _check_range("chunk_tokens", self.chunk_tokens, 32, EMBEDDING_TOKEN_LIMIT)
        _check_range("overlap_tokens", self.overlap_tokens, 0, self.chunk_tokens // 2)
        _check_range("embed_batch", self.embed_batch, 1, 1024)
        _check_range("top_k", self.top_k, 1, 50)
        _check_range("prompt_excerpts", self.prompt_excerpts, 0, 50)
        _check_range("context_tokens", self.context_tokens, 512, 131072)
        _check_range("answer_tokens", self.answer_tokens, 16, self.context_tokens // 2)
        _check_range("threads", self.threads, 0, 256)
        _check_range("temperature", self.temperature, 0.0, 2.0)
        _check_range("min_relevance", self.min_relevance, -2.0, 2.0)
        _check_range("exact_search_max_vectors", self.exact_search_max_vectors, 0, 1_000_000_000)
        if self.answer_mode not in ANSWER_MODES:
            raise ConfigError(
                f"Setting 'answer_mode' is {self.answer_mode!r}; it must be one of "
                f"{', '.join(ANSWER_MODES)}."
            )
        for name in ("strict", "cite_grammar", "follow_links"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(
                    f"Setting '{name}' must be true or false, not {getattr(self, name)!r}."
                )
        _check_range("max_file_mb", self.max_file_mb, 1, 4096)
        _check_range("max_pdf_pages", self.max_pdf_pages, 1, 1_000_000)
        _check_range("max_text_chars", self.max_text_chars, 10_000, 1_000_000_000)
        _check_range("max_stream_mb", self.max_stream_mb, 1, 4096)
        _check_range("parse_timeout_s", self.parse_timeout_s, 5, 86_400)
        _check_range("parse_memory_mb", self.parse_memory_mb, 1024, 1_048_576)
        for name in (
            "max_file_mb",
            "max_pdf_pages",
            "max_text_chars",
            "max_stream_mb",
            "parse_timeout_s",
            "parse_memory_mb",
            "exact_search_max_vectors",
        ):
            if not isinstance(getattr(self, name), int):
                raise ConfigError(f"Setting '{name}' must be a whole number.")

    @property
    def workspaces_dir(self) -> Path:
        return self.data_dir / "workspaces"

    @property
    def models_dir(self) -> Path:
        """Models Hushdoc builds itself (the ONNX embedding graphs)."""
        return self.data_dir / "models"

    @property
    def generator_threads(self) -> int:
        return self.threads or max(1, os.cpu_count() or 1)

    def with_changes(self, **changes: Any) -> Config:
        """A copy with some settings changed, validated again."""
        return replace(self, **changes)

    def to_toml(self) -> str:
        data = {k: str(v) for k, v in asdict(self).items() if isinstance(v, Path)}
        data |= {k: v for k, v in asdict(self).items() if not isinstance(v, Path | None)}
        return tomli_w.dumps(data)


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"Setting '{name}' must be a number, not {value!r}.")
    if not low <= value <= high:
        raise ConfigError(f"Setting '{name}' is {value}; it must be between {low} and {high}.")


def load_config(path: Path | None = None) -> Config:
    """Read the settings file; a missing file gives the defaults."""
    path = path or config_path()
    if not path.exists():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"The settings file {path} cannot be read ({exc}). Fix it or delete it to "
            "start from the defaults."
        ) from exc
    known = {f.name for f in fields(Config)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"The settings file {path} has unknown setting(s): {', '.join(unknown)}. "
            f"Known settings are: {', '.join(sorted(known))}."
        )
    try:
        return Config(**data)
    except TypeError as exc:
        raise ConfigError(f"The settings file {path} is invalid: {exc}") from exc


def save_config(config: Config, path: Path | None = None) -> Path:
    path = path or config_path()
    write_atomic(path, config.to_toml().encode("utf-8"))
    return path
