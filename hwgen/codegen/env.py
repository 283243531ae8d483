"""The one Jinja environment: StrictUndefined, so a missing value is an error, never blank text."""
from __future__ import annotations

import string
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"

_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                          keep_trailing_newline=True, autoescape=False)


def render(name: str, context: dict) -> str:
    """Return template `name` (relative to templates/) rendered with context."""
    return _ENV.get_template(name).render(**context)


# What user text (file names, paths, spec names, tensor names) may keep in a generated file: none
# of these ends a comment or continues it (backslash, `??/`), nor means anything to Tcl or SV
# (`$ [ ] { } ; "`), so the text stays inert in a `//`, `/* */` or `#` comment line.
SAFE_CHARS = frozenset(string.ascii_letters + string.digits + " ._-+=,:()/@")
SAFE_TEXT_MAX = 160  # characters kept of a longer text: its beginning and end


def safe_text(text) -> str:
    """Return text as one inert line for a generated comment: other characters become '_'."""
    line = "".join(c if c in SAFE_CHARS else "_" for c in str(text))
    if len(line) <= SAFE_TEXT_MAX:
        return line
    half = SAFE_TEXT_MAX // 2
    return f"{line[:half]}...{line[-half:]}"
