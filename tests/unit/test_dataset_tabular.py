"""Tabular datasets: delimited files read as one pandas DataFrame."""

from __future__ import annotations

import sys

import pytest

from runyard.core import Dataset
from runyard.core.dataset import TabularDataset
from runyard.errors import InvalidArgument, MissingDependency


@pytest.fixture
def tables(ws, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "2023.csv").write_text("city;temp\nOslo;4\nRome;16\n")
    (src / "2024.csv").write_text("city;temp\nLima;19\n")
    ds = ws.get_default_datastore()
    ds.upload(str(src), target_path="weather", show_progress=False)
    return ds


def test_files_are_read_as_one_table_in_file_order(tables):
    dataset = Dataset.Tabular.from_delimited_files((tables, "weather/*.csv"), separator=";")
    df = dataset.to_pandas_dataframe()
    assert list(df.columns) == ["city", "temp"]
    assert df["city"].tolist() == ["Oslo", "Rome", "Lima"]
    assert df["temp"].tolist() == [4, 16, 19]


def test_settings_are_kept_with_the_registered_version(ws, tables):
    Dataset.Tabular.from_delimited_files(
        (tables, "weather/2023.csv"),
        separator=";",
        infer_column_types=False,
        include_path=True,
    ).register(ws, "weather")
    again = Dataset.get_by_name(ws, "weather")
    assert isinstance(again, TabularDataset)
    df = again.to_pandas_dataframe()
    assert df.columns.tolist() == ["Path", "city", "temp"]
    assert df["temp"].tolist() == ["4", "16"]  # no type inference: text
    assert set(df["Path"]) == {"/2023.csv"}  # as to_path() names it


def test_without_header_columns_are_numbered(tables):
    df = Dataset.Tabular.from_delimited_files(
        (tables, "weather/2024.csv"), separator=";", header=False
    ).to_pandas_dataframe()
    assert df.shape == (2, 2) and df.iloc[0].tolist() == ["city", "temp"]


def test_without_pandas_the_error_names_the_extra(tables, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes 'import pandas' fail
    dataset = Dataset.Tabular.from_delimited_files((tables, "weather/*.csv"))
    with pytest.raises(MissingDependency, match=r"runyard\[pandas\]"):
        dataset.to_pandas_dataframe()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"separator": ";;"},
        {"header": "ALL_FILES_HAVE_SAME_HEADERS"},
        {"set_column_types": {"temp": float}},
        {"partition_format": "{year}.csv"},
    ],
)
def test_unsupported_or_malformed_settings_are_refused(tables, kwargs):
    with pytest.raises(InvalidArgument):
        Dataset.Tabular.from_delimited_files((tables, "weather/*.csv"), **kwargs)


def test_a_file_that_is_not_text_in_the_encoding_is_invalid(ws, tmp_path):
    (tmp_path / "bad.csv").write_bytes(b"a,b\n\xff\xfe,1\n")
    dataset = Dataset.Tabular.from_delimited_files(str(tmp_path / "bad.csv"), encoding="utf8")
    with pytest.raises(InvalidArgument, match=r"bad\.csv"):
        dataset.to_pandas_dataframe()
