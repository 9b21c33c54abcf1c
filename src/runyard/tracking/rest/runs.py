"""Experiments and runs over the API (``/experiments``, ``/runs``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from runyard.entities import ExperimentRecord, RunPage, RunRecord, RunStatus, StatusChange
from runyard.tracking.paging import MAX_PAGE_SIZE, check_max_results
from runyard.tracking.rest.base import RestBase, segment
from runyard.tracking.wire import from_wire, to_wire


def tag_filter(tags: dict[str, str | None] | None) -> str | None:
    """Tag (or property) filters as the ``tags`` query parameter: a JSON object, so that
    any name, ``=`` included, travels as it is."""
    return None if tags is None else json.dumps(tags, separators=(",", ":"))


class RestRuns(RestBase):
    """The ExperimentStore and RunStore ports over the API."""

    # -- experiments -----------------------------------------------------------------
    def create_experiment(self, name: str) -> ExperimentRecord:
        return from_wire(ExperimentRecord, self._call("POST", "experiments", json={"name": name}))

    def get_experiment(self, name: str) -> ExperimentRecord:
        return self._get(ExperimentRecord, f"experiments/{segment(name)}")

    def list_experiments(self) -> list[ExperimentRecord]:
        return self._list(ExperimentRecord, "experiments", "experiments")

    # -- runs ------------------------------------------------------------------------
    def create_run(
        self,
        experiment_name: str,
        *,
        run_id: str,
        status: RunStatus,
        display_name: str | None = None,
        parent_run_id: str | None = None,
        run_type: str = "interactive",
        target: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> RunRecord:
        body = to_wire(
            {
                "experiment_name": experiment_name,
                "run_id": run_id,
                "status": status,
                "display_name": display_name,
                "parent_run_id": parent_run_id,
                "run_type": run_type,
                "target": target,
                "tags": tags,
                "properties": properties,
                "details": details,
            }
        )
        return from_wire(RunRecord, self._call("POST", "runs", json=body))

    def get_run(self, run_id: str) -> RunRecord:
        return self._get(RunRecord, f"runs/{segment(run_id)}")

    def list_runs(
        self,
        *,
        experiment_name: str | None = None,
        parent_run_id: str | None = None,
        statuses: Sequence[RunStatus] | None = None,
        tags: dict[str, str | None] | None = None,
        limit: int | None = None,
        target: str | None = None,
    ) -> list[RunRecord]:
        runs: list[RunRecord] = []
        token: str | None = None
        while limit is None or len(runs) < limit:
            size = MAX_PAGE_SIZE if limit is None else min(MAX_PAGE_SIZE, limit - len(runs))
            page = self.list_runs_page(
                experiment_name=experiment_name,
                parent_run_id=parent_run_id,
                statuses=statuses,
                tags=tags,
                target=target,
                max_results=size,
                page_token=token,
            )
            runs.extend(page.runs)
            token = page.next_page_token
            if token is None:
                break
        return runs

    def list_runs_page(
        self,
        *,
        experiment_name: str | None = None,
        parent_run_id: str | None = None,
        statuses: Sequence[RunStatus] | None = None,
        tags: dict[str, str | None] | None = None,
        target: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RunPage:
        check_max_results(max_results)
        params: dict[str, Any] = {"max_results": max_results}
        optional = {
            "experiment": experiment_name,
            "parent": parent_run_id,
            "tags": tag_filter(tags),
            "target": target,
            "page_token": page_token,
        }
        params.update((k, v) for k, v in optional.items() if v is not None)
        if statuses:
            params["status"] = [RunStatus(s).value for s in statuses]
        return self._get(RunPage, "runs", params)

    def set_run_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        error: dict[str, Any] | None = None,
        expected: Iterable[RunStatus] | None = None,
    ) -> RunRecord:
        body = {
            "status": to_wire(status),
            "error": to_wire(error),
            "expected": None if expected is None else to_wire(list(expected)),
        }
        return from_wire(RunRecord, self._call("POST", f"runs/{segment(run_id)}/status", json=body))

    def get_status_history(self, run_id: str) -> list[StatusChange]:
        return self._list(StatusChange, f"runs/{segment(run_id)}/status-history", "history")

    def update_run(
        self,
        run_id: str,
        *,
        display_name: str | None = None,
        details: dict[str, Any] | None = None,
        heartbeat_at: float | None = None,
    ) -> RunRecord:
        body = to_wire(
            {"display_name": display_name, "details": details, "heartbeat_at": heartbeat_at}
        )
        return from_wire(RunRecord, self._call("PATCH", f"runs/{segment(run_id)}", json=body))

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        self._call("PUT", f"runs/{segment(run_id)}/tags", json={"tags": to_wire(tags)})

    def remove_tags(self, run_id: str, names: Iterable[str]) -> None:
        self._call("DELETE", f"runs/{segment(run_id)}/tags", params={"name": list(names)})

    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        body = {"properties": to_wire(properties)}
        self._call("POST", f"runs/{segment(run_id)}/properties", json=body)
