"""Versions of cached page fragments: dropped only once the change commits."""

from __future__ import annotations

import pytest

from core.fragments import fragment_version, fragment_version_drop

pytestmark = pytest.mark.django_db


def test_a_version_stays_until_dropped():
    assert fragment_version("things") == fragment_version("things")
    assert fragment_version("things") != fragment_version("other-things")


def test_a_dropped_version_changes_only_after_the_change_commits(
    django_capture_on_commit_callbacks,
):
    before = fragment_version("things")
    with django_capture_on_commit_callbacks() as callbacks:
        fragment_version_drop("things")
        assert fragment_version("things") == before  # a page meanwhile reads the old data
    for callback in callbacks:
        callback()
    assert fragment_version("things") != before
