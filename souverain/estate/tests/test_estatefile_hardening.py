"""Issue 10 item 11: hostile YAML gets a clear error naming the file (and line), in bounded time, from the
loader, the `souverain estate validate` command and the CLI's workload reader — never a hang or a traceback."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from souverain.cli.main import main
from souverain.estate import estatefile

LAUGHS = "\n".join(
    ['lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{n}: &{n} [{','.join(['*' + p] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
) + "\n"


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail (rather than hang the suite) when the block takes longer: the behaviour before the fix."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def problems_of(path: Path) -> list[estatefile.Problem]:
    with within(10), pytest.raises(estatefile.EstateFileError) as info:
        estatefile.load(path)
    return info.value.problems


def test_the_billion_laughs_file_is_small(tmp_path):
    assert len(LAUGHS.encode()) < 500


def test_an_alias_bomb_is_refused_quickly_with_the_file_and_line(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(LAUGHS, encoding="utf-8")
    started = time.monotonic()
    [problem] = problems_of(path)
    assert time.monotonic() - started < 2
    assert problem.file == str(path)
    assert "aliases" in problem.message and "nodes" in problem.message
    assert problem.line > 1


def test_reasonable_aliases_still_work(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("version: 1\nentities: &e []\ndatacenters: *e\nclouds: *e\n", encoding="utf-8")
    doc, _ = estatefile.read(path)
    assert doc["datacenters"] == []


@pytest.mark.parametrize("text, line", [
    ("entities:\n  - " + "[" * 10_000 + "]" * 10_000 + "\n", 2),
    ("entities:\n" + "".join("  " * i + "- \n" for i in range(1, 2000)), 3),
    ("entities:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 2000)), 3),
])
def test_deep_nesting_is_refused_at_its_line_without_a_recursion_error(tmp_path, text, line):
    path = tmp_path / "deep.yaml"
    path.write_text(text, encoding="utf-8")
    [problem] = problems_of(path)
    assert "nested deeper than" in problem.message
    assert problem.file == str(path)
    assert problem.line >= line


@pytest.mark.parametrize("raw, line, column, words", [
    (b"version: 1\nentities: [\xff\xfe]\n", 2, 12, "not UTF-8"),
    (b"version: 1\nname: caf\xe9\n", 2, 10, "not UTF-8"),
    (b"version: 1\nname: a\x00b\n", 2, 8, "NUL"),
    (b"version: 1\nname: a\x07b\n", 2, 8, "control character"),
])
def test_undecodable_or_control_bytes_are_located(tmp_path, raw, line, column, words):
    path = tmp_path / "bytes.yaml"
    path.write_bytes(raw)
    [problem] = problems_of(path)
    assert words in problem.message
    assert (problem.file, problem.line, problem.column) == (str(path), line, column)


def test_a_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfversion: 1\n")
    assert estatefile.read(path)[0] == {"version": 1}


def test_a_huge_file_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(estatefile, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "huge.yaml"
    path.write_text("version: 1\n" + "# padding\n" * 200, encoding="utf-8")
    [problem] = problems_of(path)
    assert "larger than" in problem.message


@pytest.mark.parametrize("name, content", [
    ("bomb.yaml", LAUGHS.encode()),
    ("deep.yaml", ("a: " + "[" * 5000 + "]" * 5000 + "\n").encode()),
    ("latin1.yaml", b"name: caf\xe9\n"),
    ("nul.yaml", b"name: a\x00b\n"),
])
def test_the_cli_reports_hostile_files_without_a_traceback(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    runner = CliRunner()
    with within(20):
        validate = runner.invoke(main, ["estate", "validate", str(path)])
        place = runner.invoke(main, ["place", "--workload", str(path), "--estate", str(path)])
    for result in (validate, place):
        assert result.exit_code not in (0, None), result.output
        assert not isinstance(result.exception, (RecursionError, UnicodeDecodeError, TimeoutError)), result.exception
        assert "Traceback" not in result.output
        assert str(path) in result.output.replace("\n", "")  # the terminal's width may fold a long path
