"""One settings object: its defaults are the only ones, every construction is checked."""

import dataclasses
from pathlib import Path

import pytest

from segmentation_pipeline.defs.resources import PipelineSettings
from segmentation_pipeline.settings import Settings, SettingsError, env_name


def test_the_environment_left_unset_gives_the_dataclass_defaults():
    assert Settings.from_env({}) == Settings()
    # The defaults that once disagreed between the dataclass, from_env and the resource.
    assert Settings().settle_seconds == 60 and Settings().cost_per_effort_point == 2.0


def test_every_setting_reads_its_own_variable():
    environ = {
        "SEGMENTATION_DATA_DIR": "/srv/segments", "SEGMENTATION_REJECT_THRESHOLD": "0.2",
        "SEGMENTATION_HOLDOUT_DAYS": "30", "SEGMENTATION_FULL_REFRESH": "yes", "SEGMENTATION_CURRENCY": "gbp",
        "SEGMENTATION_ASSUMED_MARGIN_RATE": "0.3", "SEGMENTATION_SETTLE_SECONDS": "0",
        "SEGMENTATION_COST_PER_EFFORT_POINT": " ",  # blank keeps the default
    }  # fmt: skip
    settings = Settings.from_env(environ)
    assert str(settings.data_dir) == "/srv/segments"
    assert (settings.reject_threshold, settings.holdout_days, settings.full_refresh) == (0.2, 30, True)
    assert (settings.currency, settings.assumed_margin_rate, settings.settle_seconds) == ("GBP", 0.3, 0.0)
    assert settings.cost_per_effort_point == 2.0
    assert env_name("cost_per_effort_point") == "SEGMENTATION_COST_PER_EFFORT_POINT"


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"reject_threshold": 1.5}, "SEGMENTATION_REJECT_THRESHOLD=1.5 is not a valid value: expected a number between 0 and 1"),
     ({"holdout_days": 0}, "SEGMENTATION_HOLDOUT_DAYS=0 is not a valid value: expected a whole number of at least 1"),
     ({"rfm_monetary": "profit"}, "expected one of margin, revenue"),
     ({"currency": "eur"}, "ISO 4217")],
)  # fmt: skip
def test_a_settings_object_built_in_code_is_checked_too(changes, message):
    with pytest.raises(SettingsError) as error:
        Settings(**changes)
    assert message in str(error.value)


def test_the_launchpad_shows_every_setting_with_its_type_description_and_value():
    settings = Settings(data_dir="/srv/x", holdout_days=30, settle_seconds=0)
    resource_def = PipelineSettings.from_settings(settings).get_resource_definition()
    config = resource_def.config_schema.as_field().config_type.fields
    assert list(config) == [f.name for f in dataclasses.fields(Settings)]
    for f in dataclasses.fields(Settings):
        assert config[f.name].description.startswith(f.metadata["doc"]), f.name
        if f.metadata["load_time"]:  # where to change it instead
            assert f"set {env_name(f.name)} and reload the code location" in config[f.name].description
        assert not config[f.name].is_required, f.name  # every value given, any may be changed
    assert (config["data_dir"].default_value, config["holdout_days"].default_value) == ("/srv/x", 30)
    kinds = {name: config[name].config_type.key for name in ("data_dir", "holdout_days", "full_refresh")}
    assert kinds == {
        "data_dir": "StringSourceType",
        "holdout_days": "IntSourceType",
        "full_refresh": "BoolSourceType",
    }
    assert (config["claim_support"].config_type.key, config["assumed_margin_rate"].config_type.key) == (
        "Float",
        "Noneable.Float",
    )
    # The values as Dagster carries them give back the same Settings.
    assert PipelineSettings(**PipelineSettings.from_settings(settings).data).settings() == settings


def test_the_readme_lists_every_setting():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Settings (environment variables)", 1)[1].split("\n## ", 1)[0]
    missing = [
        env_name(f.name) for f in dataclasses.fields(Settings) if f"`{env_name(f.name)}`" not in section
    ]
    assert not missing, f"README.md, section Settings, lacks {missing}"
