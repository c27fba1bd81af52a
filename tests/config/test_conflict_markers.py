"""CI refuses a tracked file that was committed in the middle of a merge."""

from __future__ import annotations

import subprocess

from tests.support import BASE_DIR

CHECK = BASE_DIR / ".ci" / "conflict-markers"
CONFLICTED = "\n".join(
    ["<p>", "<<<<<<< HEAD", "  <table>", "=======", "  <table class=list>", ">>>>>>> main", ""]
)
UNDERLINES = "Title\n=======\n\nruff\n-------\n"


def _repository(tmp_path, files: dict[str, str]):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    return tmp_path


def _check(path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CHECK), str(path)], capture_output=True, text=True)


def test_conflict_check_fails_on_a_tracked_file_with_markers(tmp_path):
    result = _check(_repository(tmp_path, {"page.html": CONFLICTED, "notes.md": UNDERLINES}))
    assert result.returncode == 1
    assert "page.html:2:<<<<<<< HEAD" in result.stderr
    assert "page.html:4:=======" in result.stderr
    assert "notes.md" not in result.stderr


def test_conflict_check_passes_heading_underlines(tmp_path):
    assert _check(_repository(tmp_path, {"notes.md": UNDERLINES})).returncode == 0


def test_ci_runs_the_conflict_check_before_anything_else():
    script = (BASE_DIR / ".ci" / "run").read_text()
    assert script.index(".ci/conflict-markers") < script.index("make install")


def test_repository_has_no_conflict_markers():
    result = _check(BASE_DIR)
    assert result.returncode == 0, result.stderr
