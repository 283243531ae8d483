"""The one Jinja environment: StrictUndefined, so a missing value is an error, never blank text."""
from __future__ import annotations

from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"

_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                          keep_trailing_newline=True, autoescape=False)


def render(name: str, context: dict) -> str:
    """Return template `name` (relative to templates/) rendered with context."""
    return _ENV.get_template(name).render(**context)
