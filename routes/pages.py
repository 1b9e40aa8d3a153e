"""The server's own HTML pages (routes/templates/): the e-receipt's confirmation pages and
the personal-data notice, rendered with Jinja (autoescaped; a missing value is an error)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def template(name: str) -> jinja2.Template:
    """The template `name` of routes/templates/ (loaded once)."""
    return _environment().get_template(name)
