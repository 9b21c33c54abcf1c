"""Dataset, as in SDK v1 (``azureml.core.dataset``): ``Dataset.File.from_files``,
``Dataset.Tabular.from_delimited_files``, ``Dataset.get_by_name``.

What a dataset is, how its files are pinned and what a run records:
:mod:`runyard.core.dataset_file`; what ``path`` may name: :mod:`runyard.core.dataset_paths`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runyard.core.dataset_file import FileDataset
from runyard.core.dataset_input import DatasetConsumptionConfig
from runyard.core.dataset_paths import DataPath, list_files, parse_paths
from runyard.core.dataset_tabular import TabularDataset, options_from_arguments
from runyard.entities.validation import check_entity_name
from runyard.errors import InvalidArgument

if TYPE_CHECKING:
    from runyard.core.workspace import Workspace

__all__ = [
    "DataPath",
    "Dataset",
    "DatasetConsumptionConfig",
    "FileDataset",
    "FileDatasetFactory",
    "TabularDataset",
    "TabularDatasetFactory",
]


class FileDatasetFactory:
    """``Dataset.File``: makes file datasets."""

    @staticmethod
    def from_files(
        path: Any, validate: bool = True, partition_format: str | None = None
    ) -> FileDataset:
        """A dataset of the files ``path`` names: ``(datastore, 'mnist/*')``, a
        ``DataPath``, ``ds.path('x')``, an http(s) URL, a local path, or a list of these
        (see :mod:`runyard.core.dataset_paths`).

        Args:
            path: the files.
            validate: check now that every path matches a file (SDK v1's default).
            partition_format: not supported (raises when given).

        Raises:
            InvalidArgument: a path of another shape, or ``partition_format``.
            NotFound: with ``validate``, a path that matches no file.
        """
        _no_partitions(partition_format)
        sources = parse_paths(path)
        if validate:
            list_files(sources)
        return FileDataset(sources=sources)


class TabularDatasetFactory:
    """``Dataset.Tabular``: makes tabular datasets."""

    @staticmethod
    def from_delimited_files(
        path: Any,
        validate: bool = True,
        include_path: bool = False,
        infer_column_types: bool = True,
        set_column_types: dict[str, Any] | None = None,
        separator: str = ",",
        header: Any = True,
        partition_format: str | None = None,
        support_multi_line: bool = False,
        empty_as_string: bool = False,
        encoding: str = "utf8",
    ) -> TabularDataset:
        """A table read from delimited files (CSV by default), rows in file order.

        Args:
            path: the files, as for ``Dataset.File.from_files``.
            validate: check now that every path matches a file.
            include_path: add a first column ``Path`` with each row's file.
            infer_column_types: let pandas infer column types (False: every column text).
            set_column_types: not supported (raises when given).
            separator: the one-character field separator.
            header: whether the first row of each file names the columns.
            partition_format: not supported (raises when given).
            support_multi_line: accepted for SDK v1; quoted line breaks are always read.
            empty_as_string: keep empty cells as ``""`` instead of missing values.
            encoding: the files' text encoding.

        Raises:
            InvalidArgument: an unsupported or malformed setting.
            NotFound: with ``validate``, a path that matches no file.
        """
        del support_multi_line  # pandas reads quoted line breaks in any case
        _no_partitions(partition_format)
        if set_column_types:
            raise InvalidArgument(
                "set_column_types is not supported: convert columns of the DataFrame "
                "(df.astype(...)) after to_pandas_dataframe()."
            )
        options = options_from_arguments(
            separator, header, encoding, infer_column_types, include_path, empty_as_string
        )
        sources = parse_paths(path)
        if validate:
            list_files(sources)
        return TabularDataset(options=options, sources=sources)


class Dataset:
    """SDK v1's entry point to datasets: ``Dataset.File``, ``Dataset.Tabular`` and the
    registry (``Dataset.get_by_name``)."""

    File = FileDatasetFactory
    Tabular = TabularDatasetFactory

    @staticmethod
    def get_by_name(
        workspace: Workspace, name: str, version: int | str = "latest"
    ) -> FileDataset | TabularDataset:
        """A registered dataset version (default the latest).

        Raises:
            NotFound: no dataset ``name``, or no such version (the message lists names).
            InvalidArgument: ``version`` is neither ``'latest'`` nor a positive number.
        """
        check_entity_name("Dataset", name)
        wanted = None if version == "latest" else _version(version)
        record = workspace.resources.store.get_dataset(name, wanted)
        cls = TabularDataset if record.kind == "tabular" else FileDataset
        return cls._from_record(workspace, record)

    @staticmethod
    def get_all(workspace: Workspace) -> dict[str, FileDataset | TabularDataset]:
        """The latest version of every registered dataset, by name."""
        found: dict[str, FileDataset | TabularDataset] = {}
        for record in workspace.resources.store.list_datasets():
            cls = TabularDataset if record.kind == "tabular" else FileDataset
            found[record.name] = cls._from_record(workspace, record)
        return found


def _version(version: int | str) -> int:
    try:
        number = int(version)
    except (TypeError, ValueError):
        number = 0
    if number < 1 or isinstance(version, bool):
        raise InvalidArgument(f"version must be 'latest' or a positive number, got {version!r}.")
    return number


def _no_partitions(partition_format: str | None) -> None:
    if partition_format is not None:
        raise InvalidArgument(
            "partition_format is not supported: name the files with paths or wildcards."
        )
