"""The ExperimentStore port: named groups of runs."""

from __future__ import annotations

import abc

from runyard.entities import ExperimentRecord


class ExperimentStore(abc.ABC):
    """Experiments of one workspace.

    ``create_experiment`` is get-or-create and safe when several processes race.
    """

    @abc.abstractmethod
    def create_experiment(self, name: str) -> ExperimentRecord:
        """Get the experiment called ``name``, creating it if it does not exist."""

    @abc.abstractmethod
    def get_experiment(self, name: str) -> ExperimentRecord:
        """The experiment called ``name``.

        Raises:
            NotFound: no such experiment (the message lists known ones).
        """

    @abc.abstractmethod
    def list_experiments(self) -> list[ExperimentRecord]:
        """All experiments, oldest first."""
