"""The documentation: README.md for newcomers, docs/ for the rest, kept true by tests.

docs/configuration.md is generated from the settings definitions in config.py, and every
relative link between the pages must lead to a file (and a heading) that exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import REFERENCE_SECTIONS, Settings, settings_reference

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`+[^`\n]*`+")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def _prose(text: str) -> str:
    """The page without code: a link or a heading inside a code block is not one."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces
    to hyphens, and a repeated heading numbered."""
    seen: dict[str, int] = {}
    anchors = set()
    for title in _HEADING.findall(_FENCE.sub("", page.read_text(encoding="utf-8"))):
        slug = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def test_the_configuration_reference_is_rendered_from_config_py() -> None:
    page = ROOT / "docs" / "configuration.md"
    assert page.read_text(encoding="utf-8") == settings_reference(), (
        "docs/configuration.md differs from the settings in config.py: run `make docs` "
        "and commit docs/configuration.md"
    )


def test_every_setting_has_one_row_in_the_reference() -> None:
    reference = settings_reference()
    for name, _default, _doc in Settings.documented():
        assert reference.count(f"\n| `{name}` |") == 1, name


def test_the_reference_sections_follow_the_settings() -> None:
    fields = [name.lower() for name, _d, _doc in Settings.documented()]
    starts = [first for _title, first, _intro in REFERENCE_SECTIONS]
    assert starts[0] == fields[0]
    assert starts == sorted(starts, key=fields.index)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_relative_links_lead_somewhere(page: Path) -> None:
    broken = []
    for target in _LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no file {linked.relative_to(ROOT)}")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.relative_to(ROOT)}")
    assert not broken, f"broken links in {page.relative_to(ROOT)}: {broken}"


def test_the_readme_stays_a_newcomers_page() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= 250, f"README.md has {lines} lines: move the details to docs/"
