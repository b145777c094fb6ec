"""The settings: every value is checked when a Config is built, and the settings file
round-trips, with errors that name the setting or the file and say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import Config, config_path, load_config, save_config
from rag.errors import ConfigError


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"chunk_tokens": 16}, "Setting 'chunk_tokens' is 16; it must be between 32 and 254."),
        (
            {"chunk_tokens": 64, "overlap_tokens": 40},
            "Setting 'overlap_tokens' is 40; it must be between 0 and 32.",
        ),
        (
            {"context_tokens": 1024, "answer_tokens": 600},
            "Setting 'answer_tokens' is 600; it must be between 16 and 512.",
        ),
        ({"top_k": 0}, "Setting 'top_k' is 0; it must be between 1 and 50."),
        ({"temperature": 2.5}, "Setting 'temperature' is 2.5; it must be between 0.0 and 2.0."),
        ({"chunk_tokens": "192"}, "Setting 'chunk_tokens' must be a number, not '192'."),
        ({"top_k": True}, "Setting 'top_k' must be a number, not True."),
        ({"max_file_mb": 1.5}, "Setting 'max_file_mb' must be a whole number."),
        ({"strict": "yes"}, "Setting 'strict' must be true or false, not 'yes'."),
        (
            {"answer_mode": "chat"},
            "Setting 'answer_mode' is 'chat'; it must be one of auto, copy, generate, extractive.",
        ),
    ],
)
def test_a_bad_value_is_refused_with_the_setting_and_what_it_must_be(settings, message):
    with pytest.raises(ConfigError) as caught:
        Config(**settings)
    assert str(caught.value) == message


def test_a_changed_copy_is_checked_again():
    config = Config(top_k=5)
    assert config.with_changes(top_k=7).top_k == 7 and config.top_k == 5
    with pytest.raises(ConfigError, match="'top_k' is 99"):
        config.with_changes(top_k=99)


def test_paths_given_as_text_become_paths(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    # As the settings file gives them.
    config = Config(data_dir="~/hushdoc", generator_model="~/models/small.gguf")  # type: ignore[arg-type]
    assert config.data_dir == tmp_path / "hushdoc"
    assert config.generator_model == tmp_path / "models" / "small.gguf"
    assert config.models_dir == tmp_path / "hushdoc" / "models"
    assert config.workspaces_dir == tmp_path / "hushdoc" / "workspaces"


def test_hushdoc_home_holds_the_data_and_the_settings_file(hushdoc_home):
    assert Config().data_dir == hushdoc_home
    assert config_path() == hushdoc_home / "config.toml"


def test_settings_round_trip_through_the_file(hushdoc_home, tmp_path):
    assert load_config() == Config()  # no file yet: the defaults
    config = Config(
        chunk_tokens=128,
        overlap_tokens=24,
        answer_mode="extractive",
        strict=True,
        min_relevance=0.3,
        generator_model=tmp_path / "small.gguf",
    )
    assert save_config(config) == hushdoc_home / "config.toml"
    assert load_config() == config
    assert 'answer_mode = "extractive"' in (hushdoc_home / "config.toml").read_text()


def test_an_unknown_setting_in_the_file_is_named(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("top_k = 5\nchunk_size = 100\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"The settings file {path} has unknown setting(s): chunk_size.")
    assert "chunk_tokens" in message  # the known settings are listed


@pytest.mark.parametrize(
    "content, message",
    [
        ("top_k = [unclosed", "cannot be read"),
        ('top_k = "ten"', "Setting 'top_k' must be a number, not 'ten'."),
    ],
)
def test_an_unusable_settings_file_is_a_clear_error(tmp_path: Path, content, message):
    path = tmp_path / "config.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path)
