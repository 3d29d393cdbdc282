"""The configuration file: the example is complete and true; mistakes are named precisely."""

from __future__ import annotations

import typing
from pathlib import Path

import annotated_types
import pytest
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from camera.config import ConfigError, RondaConfig, load_config, parse_config
from camera.section import plain_types
from tests.conftest import CANARY_PASSWORD

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "ronda.example.yaml"


def leaf_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every option of the config model as a dotted path (sections recurse, values are leaves)."""
    paths: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths |= leaf_paths(annotation, f"{prefix}{name}.")
        else:
            paths.add(f"{prefix}{name}")
    return paths


def yaml_paths(data: dict, prefix: str = "") -> set[str]:
    paths: set[str] = set()
    for key, value in data.items():
        if isinstance(value, dict) and value:
            paths |= yaml_paths(value, f"{prefix}{key}.")
        else:
            paths.add(f"{prefix}{key}")
    return paths


def test_example_config_is_exactly_the_defaults() -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    assert parse_config(data, str(EXAMPLE)) == RondaConfig()


def test_example_config_shows_every_option() -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    missing = leaf_paths(RondaConfig) - yaml_paths(data)
    assert not missing, f"options missing from {EXAMPLE.name}: {sorted(missing)}"


def test_generated_example_and_reference_are_committed(tmp_path: Path) -> None:
    """The example config and docs/configuration.md are written from the models' docstrings by
    ``python -m tools.config_reference``; a stale committed copy fails here."""
    from tools.config_reference import main, outputs

    assert main(["--check"]) == 0, "run: python -m tools.config_reference"
    for relative in outputs():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("stale")
    assert main(["--check", "--root", str(tmp_path)]) == 1


def test_every_option_is_documented() -> None:
    """The schema is the documentation: every option has a docstring (``Field.description``)."""
    undocumented = sorted(
        path for path, field in option_fields(RondaConfig) if not (field.description or "").strip()
    )
    assert not undocumented, f"options without a docstring: {undocumented}"


def option_fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, FieldInfo]]:
    found: list[tuple[str, FieldInfo]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += option_fields(annotation, f"{prefix}{name}.")
        else:
            found.append((f"{prefix}{name}", field))
    return found


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    config, used = load_config(path)
    assert config == RondaConfig() and used == path


def test_errors_name_file_key_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "tracker:\n  labels:\n    person:\n      threshold: 1.5\n"
        "motion:\n  masks: [[[0, 0], [2, 0], [0, 1]]]\n"
        "mqtt:\n  hots: broker.lan\n"
    )
    with pytest.raises(ConfigError) as error:
        load_config(path)
    lines = str(error.value).splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"config error in {path}: ") for line in lines)
    text = str(error.value)
    assert "tracker.labels.person.threshold" in text and "1.5" in text
    assert "motion.masks" in text and "outside 0..1" in text
    assert "mqtt.hots: unknown key" in text


def test_password_never_echoed_in_errors() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"mqtt": {"password": ["not", "a", "string"], "port": "x"}})
    assert "not" not in str(error.value).replace("not a valid", "")


def test_missing_password_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"mqtt.password_file: .*secret: does not exist"):
        parse_config({"mqtt": {"password_file": str(tmp_path / "secret")}})


def test_password_sources_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config({"mqtt": {"password": "from-yaml"}})
    monkeypatch.delenv("RONDA_MQTT_PASSWORD", raising=False)
    assert config.mqtt.resolve_password() == ("from-yaml", "mqtt.password in the config file")
    monkeypatch.setenv("RONDA_MQTT_PASSWORD", "from-env")
    assert config.mqtt.resolve_password()[0] == "from-env"
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    with_file = parse_config({"mqtt": {"password": "from-yaml", "password_file": str(secret)}})
    assert with_file.mqtt.resolve_password() == ("from-file", f"file {secret}")
    assert "from-yaml" not in repr(with_file)


def test_default_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "env.yaml"
    path.write_text("camera:\n  name: porch\n")
    monkeypatch.setenv("RONDA_CONFIG", str(path))
    config, used = load_config(None)
    assert used == path and config.topic_prefix == "ronda/porch"


def numeric_options(model: type[BaseModel], prefix: str = "") -> dict[str, list[object]]:
    """Every int/float option with its constraints (``Ge``, ``Lt``...), as a dotted path."""
    options: dict[str, list[object]] = {}
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            options |= numeric_options(annotation, f"{prefix}{name}.")
            continue
        types = plain_types(annotation)
        if bool in types or not types & {int, float}:
            continue
        constraints = list(field.metadata)
        for argument in typing.get_args(annotation):  # Annotated[...] | None
            if typing.get_origin(argument) is typing.Annotated:
                for extra in typing.get_args(argument)[1:]:
                    constraints += getattr(extra, "metadata", [extra])
        options[f"{prefix}{name}"] = constraints
    return options


def test_every_number_has_a_range() -> None:
    """Bounds are how a typo (``30000`` for ``30``) becomes an error instead of a hung camera;
    the ladder thresholds are bounded by their sections' validators instead."""
    checked_by_validators = {"governor.heat.", "governor.battery.", "governor.load."}
    for path, constraints in numeric_options(RondaConfig).items():
        if path.endswith(".at") and path.startswith(tuple(checked_by_validators)):
            continue
        low = any(isinstance(c, annotated_types.Ge | annotated_types.Gt) for c in constraints)
        high = any(isinstance(c, annotated_types.Le | annotated_types.Lt) for c in constraints)
        assert low and high, f"{path} needs a lower and an upper bound"


def test_a_nested_option_can_be_set_alone() -> None:
    config = parse_config({"governor": {"heat": {"hot": {"fps": 3}}}})
    assert config.governor.heat.hot.fps == 3
    assert config.governor.heat.hot.at == RondaConfig().governor.heat.hot.at
    pet = parse_config({"tracker": {"labels": {"pet": {"threshold": 0.4}}}}).tracker.labels.pet
    assert pet.min_area == RondaConfig().tracker.labels.pet.min_area  # not LabelRule's default


def test_errors_never_show_secrets_or_whole_sections() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"mqtt": {"password": CANARY_PASSWORD, "password_file": "/nonexistent"}})
    assert "mqtt.password_file" in str(error.value)
    with pytest.raises(ConfigError) as error:
        parse_config({"mqtt": [CANARY_PASSWORD]})
    assert CANARY_PASSWORD not in str(error.value)
    with pytest.raises(ConfigError) as error:
        parse_config({"mqtt": {"password": CANARY_PASSWORD * 3000}})  # longer than MQTT allows
    assert "mqtt.password" in str(error.value) and CANARY_PASSWORD not in str(error.value)
