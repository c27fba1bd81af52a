"""Versions of cached page fragments: dropped only once the change commits."""

from __future__ import annotations

import pytest

from core.fragments import fragment_version_drop, fragment_versions

pytestmark = pytest.mark.django_db


def test_a_version_stays_until_dropped():
    assert fragment_versions("things") == fragment_versions("things")
    assert fragment_versions("things") != fragment_versions("other-things")


def test_a_dropped_version_changes_only_after_the_change_commits(
    django_capture_on_commit_callbacks,
):
    before = fragment_versions("things")
    with django_capture_on_commit_callbacks() as callbacks:
        fragment_version_drop("things")
        assert fragment_versions("things") == before  # a page meanwhile reads the old data
    for callback in callbacks:
        callback()
    assert fragment_versions("things") != before


def test_versions_of_several_names_change_with_any_of_them(django_capture_on_commit_callbacks):
    both = fragment_versions("things", "other-things")
    assert both == fragment_versions("things", "other-things")
    assert both.split(":") == [fragment_versions("things"), fragment_versions("other-things")]
    with django_capture_on_commit_callbacks(execute=True):
        fragment_version_drop("other-things", "third-things")
    changed = fragment_versions("things", "other-things")
    assert changed != both and changed.split(":")[0] == both.split(":")[0]
