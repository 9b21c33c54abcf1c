"""TabularDataset: delimited files read as one table, as SDK v1 has them.

The files are pinned like a :class:`FileDataset`'s (a registered version records each
file's sha256 and the parsing settings); ``to_pandas_dataframe()`` reads them with pandas
(``pip install 'runyard[pandas]'``) and concatenates them in order.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from runyard.core.dataset_file import FileDataset
from runyard.entities.dataset import DatasetFile, DatasetRecord, check_files
from runyard.errors import InvalidArgument, missing_extra

if TYPE_CHECKING:
    from runyard.core.dataset_paths import Source
    from runyard.core.workspace import Workspace


@dataclass(frozen=True)
class DelimitedOptions:
    """How the files are parsed (stored with each registered version)."""

    separator: str = ","
    header: bool = True
    encoding: str = "utf8"
    infer_column_types: bool = True
    include_path: bool = False
    empty_as_string: bool = False

    @classmethod
    def from_dict(cls, data: Any) -> DelimitedOptions:
        """Raises InvalidArgument for settings of the wrong type."""
        if not isinstance(data, dict):
            raise InvalidArgument(f"Tabular settings must be a dict, got {data!r}.")
        options = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        if not isinstance(options.separator, str) or len(options.separator) != 1:
            raise InvalidArgument(f"separator must be one character, got {options.separator!r}.")
        if not isinstance(options.encoding, str):
            raise InvalidArgument(f"encoding must be a string, got {options.encoding!r}.")
        for flag in ("header", "infer_column_types", "include_path", "empty_as_string"):
            if not isinstance(getattr(options, flag), bool):
                raise InvalidArgument(f"{flag} must be True or False.")
        return options


class TabularDataset(FileDataset):
    """Delimited files read as one table: ``Dataset.Tabular.from_delimited_files(path)``."""

    _KIND = "tabular"

    def __init__(
        self,
        *,
        options: DelimitedOptions,
        sources: list[Source] | None = None,
        files: tuple[DatasetFile, ...] | None = None,
        workspace: Workspace | None = None,
        record: DatasetRecord | None = None,
    ) -> None:
        super().__init__(sources=sources, files=files, workspace=workspace, record=record)
        self._options = options

    @classmethod
    def _from_record(cls, workspace: Workspace, record: DatasetRecord) -> TabularDataset:
        files = check_files(record.definition.get("files"))
        options = DelimitedOptions.from_dict(record.definition.get("tabular") or {})
        return cls(options=options, files=files, workspace=workspace, record=record)

    def _definition(self, files: tuple[DatasetFile, ...]) -> dict[str, Any]:
        return {"files": [f.to_dict() for f in files], "tabular": asdict(self._options)}

    def to_pandas_dataframe(
        self, on_error: str = "null", out_of_range_datetime: str = "null"
    ) -> Any:
        """The files as one pandas DataFrame (rows in file order).

        Args:
            on_error, out_of_range_datetime: accepted for SDK v1; a cell pandas cannot
                parse as its column's type leaves the column as text.

        Raises:
            MissingDependency: pandas is not installed (``pip install 'runyard[pandas]'``).
            InvalidState: a registered version's file changed since it was registered.
            InvalidArgument: a file is not delimited text as described.
        """
        del on_error, out_of_range_datetime  # pandas keeps unparsable columns as text
        try:
            import pandas as pd
        except ImportError:
            raise missing_extra("pandas", "pandas") from None
        o = self._options
        frames = []
        with tempfile.TemporaryDirectory(prefix="dataset-table-") as tmp:
            for path, relpath in zip(self.download(tmp), self.to_path(), strict=True):
                try:
                    frame = pd.read_csv(
                        path,
                        sep=o.separator,
                        header=0 if o.header else None,
                        encoding=o.encoding,
                        dtype=None if o.infer_column_types else str,
                        keep_default_na=not o.empty_as_string,
                        na_values=None if not o.empty_as_string else [],
                    )
                except (ValueError, UnicodeDecodeError) as exc:
                    raise InvalidArgument(
                        f"{relpath} is not delimited text with separator {o.separator!r} "
                        f"and encoding {o.encoding!r}: {exc}"
                    ) from exc
                if o.include_path:
                    frame.insert(0, "Path", relpath)
                frames.append(frame)
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def options_from_arguments(
    separator: str,
    header: Any,
    encoding: str,
    infer_column_types: bool,
    include_path: bool,
    empty_as_string: bool,
) -> DelimitedOptions:
    """The parsing settings of ``from_delimited_files``' arguments.

    Raises:
        InvalidArgument: a setting of the wrong type.
    """
    if not isinstance(header, bool):
        # SDK v1 also takes a PromoteHeadersBehavior; only "first row or none" is kept here.
        raise InvalidArgument("header must be True (the first row names the columns) or False.")
    return DelimitedOptions.from_dict(
        {
            "separator": separator,
            "header": header,
            "encoding": os.fspath(encoding) if isinstance(encoding, os.PathLike) else encoding,
            "infer_column_types": infer_column_types,
            "include_path": include_path,
            "empty_as_string": empty_as_string,
        }
    )
