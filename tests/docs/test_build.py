"""The documentation builds with ``mkdocs build --strict``, and a broken link or API reference fails it."""

import re
import shutil
import subprocess
import sys

import pytest

from conftest import DOCS, ROOT


def build(root, site):
    """Run ``mkdocs build --strict`` on the project in ``root``; return the finished process."""
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
                          cwd=root, capture_output=True, text=True, timeout=300)


def test_docs_build_strictly(tmp_path):
    result = build(ROOT, tmp_path / "site")
    assert result.returncode == 0, result.stdout + result.stderr
    for page in ("index.html", "cli/index.html", "api/index.html", "extending/index.html"):
        assert (tmp_path / "site" / page).is_file()
    api = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    assert "pysimbias.run.sample" in api and "Parameters" in api      # the reference was generated
    extending = (tmp_path / "site" / "extending" / "index.html").read_text(encoding="utf-8")
    assert "JuntaPrior" in extending and "register_prior" in extending  # the example file was included


@pytest.mark.parametrize("addition, complaint", [
    ("See [the missing page](no-such-page.md).", "no-such-page.md"),
    ("::: pysimbias.run.no_such_function", "no_such_function"),
    ('```python\n--8<-- "no_such_example.py"\n```', "no_such_example.py"),
])
def test_a_broken_reference_fails_the_build(tmp_path, addition, complaint):
    """A copy of the project with one broken link, API reference or included file does not build."""
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(DOCS, tmp_path / "docs")
    (tmp_path / "pysimbias").symlink_to(ROOT / "pysimbias")
    page = tmp_path / "docs" / "index.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n" + addition + "\n", encoding="utf-8")
    result = build(tmp_path, tmp_path / "site")
    assert result.returncode != 0
    assert complaint in result.stdout + result.stderr


def test_readme_links_and_size():
    """The README's relative links and image exist (mkdocs does not read it), and it stays a front door."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", readme)
    local = [target for target in targets if not re.match(r"[a-z]+://", target)]
    assert len(local) >= 10
    for target in local:
        assert (ROOT / target).exists(), f"README.md links to missing {target}"
    assert len(readme.encode("utf-8")) <= 12 * 1024


def test_development_page_lists_every_package_folder():
    page = (DOCS / "development.md").read_text(encoding="utf-8")
    for folder in sorted((ROOT / "pysimbias").glob("*/__init__.py")):
        assert f"`pysimbias/{folder.parent.name}/`" in page, f"docs/development.md does not list {folder.parent.name}/"
