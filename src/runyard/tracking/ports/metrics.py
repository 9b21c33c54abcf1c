"""The MetricStore port: values logged by runs."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from runyard.entities import MetricRecord


class MetricStore(abc.ABC):
    """Metric values of runs.

    ``log_metrics`` writes a batch in one transaction (all of it or, on an error, none);
    values come back exactly, NaN and +-inf included, in the order they were logged.
    """

    @abc.abstractmethod
    def log_metrics(self, metrics: Sequence[MetricRecord]) -> None:
        """Write a batch of metrics (possibly of several runs) in one transaction.

        Raises:
            NotFound: a record names an unknown run.
            InvalidArgument: a scalar that is not a number, a payload that is not JSON,
                an unknown kind, a record without a time.
        """

    @abc.abstractmethod
    def get_metrics(self, run_id: str, name: str | None = None) -> list[MetricRecord]:
        """The run's metric records in logging order; one name or all of them."""
