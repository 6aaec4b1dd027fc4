"""Configuration checks that run at parse time, before any job.

``jsonschema`` does the type and range checks against ``schemas/config.schema.yaml``; this
module turns its verdict into one line that names the key (Snakemake's own ``validate`` prints
a multi-line dump), fills defaults for optional keys, and adds the checks a schema cannot
express: models must exist in the registry, the input file must exist.
"""

from __future__ import annotations

import os
from pathlib import Path

import jsonschema
import yaml

__all__ = ["ConfigError", "check_config", "check_keys", "DEFAULTS"]

DEFAULTS = {
    "stores": [],
    "cascade": True,
    "fields": {},
    "cache_dir": ".cache/autoheal",
    "prompt_examples": 3,
    "prompt_page_tokens": 8000,
    "sandbox_min_tier": "C",
    "sandbox_soft_timeout_s": 2.0,
    "sandbox_hard_timeout_s": 5.0,
    "sandbox_load_timeout_s": 10.0,
    "apply_data": "",
    "health_threshold": 20,
}


class ConfigError(ValueError):
    """A configuration problem, phrased as one line that names the key."""


def _key(path) -> str:
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else "(top level)"


def check_config(config: dict, schema_path: str | Path, *, check_data: bool = True) -> dict:
    """Validate ``config`` in place (defaults filled); raise ConfigError with one line."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.path), list(map(str, e.path))))
    if errors:
        err = errors[0]
        if err.validator == "additionalProperties" and not err.path:
            extra = sorted(set(config) - set(schema["properties"]))
            raise ConfigError(f"config: unknown key(s) {', '.join(map(repr, extra))}")
        if err.validator == "required":
            raise ConfigError(f"config: {err.message}")
        raise ConfigError(f"config key '{_key(err.path)}': {err.message}")
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)
    if config["sandbox_hard_timeout_s"] < config["sandbox_soft_timeout_s"]:
        raise ConfigError(
            "config key 'sandbox_hard_timeout_s': must not be below sandbox_soft_timeout_s"
        )
    registry = config["model_registry"]
    for model in config["models"]:
        if model not in registry:
            raise ConfigError(
                f"config key 'models': {model!r} is not in model_registry "
                f"(known: {', '.join(sorted(registry))})"
            )
    if check_data and not Path(config["data"]).exists():
        raise ConfigError(f"config key 'data': input file {config['data']!r} does not exist")
    return config


def check_keys(models: list[str], registry: dict) -> list[str]:
    """The API-key variables the enabled models read; ConfigError naming any that is unset.

    Returns variable *names* only (for Snakemake's ``envvars:``), never values.
    """
    from .models import missing_keys
    from .models.base import key_env_for

    missing = missing_keys(models, registry)
    if missing:
        users = [m for m in models if set(key_env_for(registry[m])) & set(missing)]
        raise ConfigError(
            f"config key 'models': {', '.join(users)} need(s) the API key variable "
            f"{' or '.join(missing)}, which is not set in the environment"
        )
    names = []
    for model in models:
        present = [n for n in key_env_for(registry[model]) if os.environ.get(n)]
        if present and present[0] not in names:
            names.append(present[0])
    return names
