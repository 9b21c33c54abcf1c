"""The MetricStore port: values logged by runs."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from runyard.entities import MetricKind, MetricPage, MetricRecord, MetricSeries
from runyard.tracking.paging import check_many


class MetricStore(abc.ABC):
    """Metric values of runs.

    ``log_metrics`` writes a batch in one transaction (all of it or, on an error, none);
    values come back exactly, NaN and +-inf included, in the order they were logged.

    Each value gets a sequence number when it is logged: positive, increasing in logging
    order within a store (across runs and names), never reused. ``read_metrics`` uses it
    to read only what is new. On PostgreSQL, numbers are drawn when a batch is written
    and become visible when it commits, so two processes logging to the *same* run at the
    same moment may become visible out of order; one writer per run (the metric buffer of
    the run's process) always reads back complete.
    """

    @abc.abstractmethod
    def log_metrics(self, metrics: Sequence[MetricRecord], *, batch_id: str | None = None) -> None:
        """Write a batch of metrics (possibly of several runs) in one transaction.

        Args:
            metrics: the records, in logging order.
            batch_id: an id the writer chose for this batch (see
                :func:`runyard.entities.validation.check_batch_id`). A batch whose id
                the store has stored already is not stored again: a client that lost
                the answer to a write sends the batch again with the same id, and the
                values land once. None: no such check.

        Raises:
            NotFound: a record names an unknown run.
            InvalidArgument: a scalar that is not a number, a payload that is not JSON,
                an unknown kind, a record without a time.
        """

    @abc.abstractmethod
    def get_metrics(self, run_id: str, name: str | None = None) -> list[MetricRecord]:
        """The run's metric records in logging order; one name or all of them."""

    @abc.abstractmethod
    def read_metrics(
        self,
        run_id: str,
        name: str | None = None,
        *,
        after_seq: int = 0,
        max_points: int | None = None,
    ) -> MetricPage:
        """The run's records logged after sequence number ``after_seq``, in logging order,
        optionally downsampled; for policies and live charts that read as a run goes.

        ``after_seq=0`` reads from the start. The page's ``last_seq`` is the sequence
        number of the newest value selected (``after_seq`` when there is none): passing it
        as the next ``after_seq`` returns exactly the values logged since, in order.

        ``max_points`` downsamples each scalar series (one name) of the selected values:
        a series of at most ``max_points`` values is returned whole. A longer one, of
        ``n`` values, is cut by logging order into ``B = max_points // 3`` buckets (value
        ``i``, counted from 0, goes to bucket ``i * B // n``), and each bucket keeps its
        lowest and its highest value (NaN is not compared; the earliest value on ties) and
        its last value, each kept once, in logging order. So at most ``max_points`` values
        per series come back, the series' global lowest and highest values are always among
        them, and so is its last value (NaN included). Records of other kinds (lists,
        rows, tables, images) are not points and are returned whole.
        (``runyard.tracking.paging.keep_in_buckets`` is the reference.)

        Raises:
            NotFound: unknown run.
            InvalidArgument: ``after_seq`` below 0, or ``max_points`` below 3.
        """

    def read_metrics_many(
        self, run_ids: Sequence[str], name: str, *, max_points: int | None = None
    ) -> dict[str, MetricPage]:
        """Metric ``name`` of several runs in one call (the lines of one chart): for each
        run, what ``read_metrics(run_id, name, max_points=max_points)`` returns.

        The result maps each run id (once, in the order given) to its page; a run without
        the metric has an empty page. Adapters compute the buckets where the data is (in
        SQL on the SQL adapter); this default reads run by run.

        Raises:
            NotFound: one of the runs does not exist (nothing is returned).
            InvalidArgument: more than 1000 runs, a run id or name that is not text, or
                ``max_points`` below 3.
        """
        wanted = check_many(run_ids, name, max_points)
        return {run_id: self.read_metrics(run_id, name, max_points=max_points) for run_id in wanted}

    def read_series_many(
        self, run_ids: Sequence[str], name: str, *, max_points: int | None = None
    ) -> list[MetricSeries]:
        """The scalar metric ``name`` of several runs as columns: the lines of a chart.

        One :class:`MetricSeries` per run, once each and in the order given; a run without
        the metric has an empty one. Each holds the run's scalar values of ``name`` (values
        of other kinds are left out) in logging order, downsampled to ``max_points`` as
        ``read_metrics`` says: the same values ``read_metrics_many`` returns as records,
        for a fraction of the cost. Adapters build the columns straight from the rows they
        read; this default builds them from ``read_metrics_many``.

        Raises:
            NotFound: one of the runs does not exist (nothing is returned).
            InvalidArgument: more than 1000 runs, a run id or name that is not text, or
                ``max_points`` below 3.
        """
        pages = self.read_metrics_many(run_ids, name, max_points=max_points)
        lines = []
        for run_id, page in pages.items():
            kept = [r for r in page.records if r.kind == MetricKind.SCALAR]
            lines.append(
                MetricSeries(
                    run_id,
                    name,
                    tuple(r.step for r in kept),
                    tuple(float(r.value) for r in kept),
                    tuple(r.logged_at for r in kept),
                )
            )
        return lines
