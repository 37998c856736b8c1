"""A CSV's separator is found, not assumed: commas, semicolons, tabs (issue 13)."""

from __future__ import annotations

import pytest

from lib import datasets, uploads
from lib.errors import UserError


@pytest.mark.parametrize(
    ("raw", "sep"),
    [
        (b"text,label\ngood film,pos\nbad film,neg\n", ","),
        (b"text;label\ngood film;pos\nbad film;neg\n", ";"),
        (b"text\tlabel\ngood film\tpos\nbad film\tneg\n", "\t"),
        # Commas inside the texts of a semicolon file do not fool it.
        (b"text;label\ngood, very good;pos\nbad, so bad;neg\n", ";"),
        # Nor semicolons inside quoted texts of a comma file.
        (b'text,label\n"good; very good",pos\n"bad; so bad",neg\n', ","),
        # A header with a separator inside a quoted name.
        (b'"the text; as written",label\n"a; b",pos\nc,neg\n', ","),
    ],
)
def test_the_separator_is_sniffed(raw, sep):
    frame = datasets.parse_table(raw, "data.csv")
    assert list(frame.columns)[-1] == "label" and len(frame.columns) == 2
    assert frame.attrs["separator"] == sep
    assert list(frame["label"]) == ["pos", "neg"]


def test_a_semicolon_file_says_how_it_was_read():
    frame = datasets.parse_table(b"text;label\na;x\nb;y\n", "data.csv")
    assert uploads.separator_note(frame) == "Read as a CSV separated by semicolons (;)."
    assert uploads.separator_note(datasets.parse_table(b"t,y\na,x\n", "d.csv")) is None


def test_a_tsv_file_is_an_upload_type(tmp_path):
    path = uploads.save_upload(b"text\tlabel\na\tx\n", "data.tsv", folder=tmp_path)
    assert path.suffix == ".tsv"
    assert datasets.read_table(path).attrs["separator"] == "\t"


def test_one_column_names_the_separators_it_tried():
    with pytest.raises(UserError, match=r"only one column \('text label'\).*semicolons, tabs"):
        datasets.parse_table(b"text label\na x\nb y\n", "data.csv")


def test_a_file_read_from_disk_is_sniffed_too(tmp_path):
    """The CLI reads files through the same parser."""
    from lib.spec import DatasetSpec

    path = tmp_path / "semi.csv"
    path.write_text("review;stars\ngreat, really;5\nawful;1\nfine;5\n")
    data = datasets.load(DatasetSpec(str(path), text_column="review", label_column="stars"))
    assert data.texts[0] == "great, really" and data.label_names == ["1", "5"]
