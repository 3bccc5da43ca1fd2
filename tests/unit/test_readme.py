"""The README stays a page a newcomer reads in five minutes, and no document links nowhere.

The README holds at most 300 lines and names the two commands, the configuration and the API;
every relative link in it, in ``CHANGELOG.md`` and in the pages under ``docs/`` points to a
file that exists. ``mkdocs build --strict`` (run by ``make test``) checks the pages' links and
anchors again as MkDocs resolves them.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MAX_README_LINES = 300

# [text](target) or [text](target "title"); images too. Code spans and blocks are removed first.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def documents() -> list[Path]:
    """The README, the changelog and every Markdown page under ``docs/``."""
    return [README, ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").rglob("*.md"))]


def relative_links(path: Path) -> list[str]:
    """The link targets of a Markdown file that point into the repository (no URL, no anchor)."""
    text = CODE_SPAN.sub("", FENCE.sub("", path.read_text()))
    targets = [match.group(1) for match in LINK.finditer(text)]
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", t, re.IGNORECASE)]


def broken_links(path: Path) -> list[str]:
    """The relative links of ``path`` whose file (anchor and query dropped) does not exist."""
    base = path.parent if path.is_symlink() else path.resolve().parent
    missing = []
    for target in relative_links(path):
        file = target.split("#", 1)[0].split("?", 1)[0]
        if not (base / file).exists():
            missing.append(target)
    return missing


def test_the_readme_is_at_most_300_lines() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines"


def test_the_readme_names_the_two_commands_the_configuration_and_the_api() -> None:
    text = README.read_text()
    for command in ("make run", "make install", "make test"):
        assert command in text, command
    links = relative_links(README)
    for page in ("docs/configuration.md", "docs/api.md", "docs/benchmarks.md", "CHANGELOG.md"):
        assert any(link.split("#")[0] == page for link in links), page


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_a_file(path: Path) -> None:
    assert broken_links(path) == [], f"{path.relative_to(ROOT)} links to missing files"


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("# there\n")
    page.write_text(
        "[ok](there.md#a) [gone](gone.md) [web](https://example.com) [top](#top)\n"
        "`[code](nowhere.md)`\n```\n[block](nowhere.md)\n```\n"
    )
    assert broken_links(page) == ["gone.md"]


def test_every_figure_in_the_readme_comes_with_its_command() -> None:
    text = README.read_text()
    section = text.split("## Figures", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) > 1
    for row in rows[1:]:
        command = row.rstrip(" |").rsplit("|", 1)[1]
        assert re.search(r"`(\.venv/bin/|make )", command), row
