"""The security suites (issue 8). Each suite records its counts with the ``security_counts``
fixture — requests tried, leaks, cases fuzzed, server errors, files refused, submissions
lost — and the run prints them in one table at the end (``make security`` and CI show it).
The counts are also written to ``var/security/counts.json`` for the closing note."""

import json
from collections import defaultdict
from pathlib import Path

import pytest

_counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
OUT = Path(__file__).resolve().parents[2] / "var" / "security" / "counts.json"


class Counts:
    def __init__(self, suite: str):
        self.suite = suite

    def add(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the count ``name`` of this suite (e.g. "requests tried")."""
        _counts[self.suite][name] += n

    def get(self, name: str) -> int:
        return _counts[self.suite][name]


@pytest.fixture
def security_counts(request):
    """``security_counts(suite)`` → a Counts for that suite name."""
    return Counts


@pytest.fixture
def media(settings, tmp_path):
    """Stored files go to a folder of the test's own (the faults and backup suites read
    them back byte for byte)."""
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _counts:
        return
    terminalreporter.section("security suites (issue 8)")
    for suite in sorted(_counts):
        figures = ", ".join(f"{name}: {n}" for name, n in _counts[suite].items())
        terminalreporter.write_line(f"{suite}: {figures}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps({s: dict(c) for s, c in _counts.items()}, ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
