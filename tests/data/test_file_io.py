"""Finding and opening a loader's files, plain or gzipped (mlcl_text.data.file_io)."""

from __future__ import annotations

import gzip

import pytest

from mlcl_text.data.file_io import find_file, open_binary, open_text, read_bytes


def test_find_file_takes_the_plain_or_the_gzipped_file(tmp_path):
    (tmp_path / "a.csv.gz").write_bytes(gzip.compress(b"x"))
    assert find_file(tmp_path, "a.csv") == tmp_path / "a.csv.gz"
    (tmp_path / "a.csv").write_text("x")
    assert find_file(tmp_path, "a.csv") == tmp_path / "a.csv"  # the plain file first
    assert find_file(tmp_path, ("b.txt", "a.csv")) == tmp_path / "a.csv"  # several spellings


def test_find_file_looks_in_subfolders_after_the_folder(tmp_path):
    (tmp_path / "hosp").mkdir()
    (tmp_path / "hosp" / "codes.csv.gz").write_bytes(gzip.compress(b"x"))
    assert find_file(tmp_path, "codes.csv", ("note", "hosp")) == tmp_path / "hosp" / "codes.csv.gz"
    (tmp_path / "codes.csv").write_text("x")
    assert find_file(tmp_path, "codes.csv", ("hosp",)) == tmp_path / "codes.csv"


def test_a_missing_file_names_the_folder_and_every_path_tried(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        find_file(tmp_path, ("x.dat", "y.dat"), ("sub",), needed_for="X needs its files")
    message = str(info.value)
    assert message.startswith(f"{tmp_path} (or its sub subfolder) has no x.dat or y.dat")
    for tried in ("x.dat", "x.dat.gz", "y.dat.gz", "sub/x.dat", "sub/y.dat.gz"):
        assert str(tmp_path / tried) in message
    assert message.endswith("; X needs its files")


@pytest.mark.parametrize("name", ["t.txt", "t.txt.gz"])
def test_open_plain_or_gzipped_as_text_bytes_or_stream(tmp_path, name):
    content = "première ligne\nzweite\n".encode()
    path = tmp_path / name
    path.write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    with open_text(path) as handle:
        assert handle.read() == content.decode()
    assert read_bytes(path) == content
    raw, stream = open_binary(path)
    try:
        assert stream.read() == content
        assert raw.tell() == path.stat().st_size  # the stored bytes read (progress)
    finally:
        raw.close()
