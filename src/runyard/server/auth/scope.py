"""What a run-scoped principal may write: its own run and that run's descendants.

A submitted run's executor and script get a token scoped to their run
(``Principal.run_scope``). Their role lets them log, tag and create runs, but only in
their own run's tree, so a script cannot touch another team member's runs. Routes that
write one run call :func:`check_run_write` with that run's id after the role check.
"""

from __future__ import annotations

from collections.abc import Iterable

from runyard.errors import Forbidden, NotFound
from runyard.server.auth.roles import Principal
from runyard.tracking.store import TrackingStore

#: Runs nest a few levels (a sweep, its trials, their workers); a longer chain of parents
#: is refused rather than walked without end.
MAX_DEPTH = 64


def check_run_write(principal: Principal, store: TrackingStore, run_id: str) -> None:
    """Allow ``principal`` to write run ``run_id``, or raise Forbidden.

    A principal without a run scope (a user's token) passes: its role was checked by the
    route. A run-scoped one passes when ``run_id`` is its run or a descendant of it (its
    parent chain reaches the scope). A run that does not exist is not in any scope.

    Raises:
        Forbidden: ``run_id`` is outside the principal's run scope.
    """
    scope = principal.run_scope
    if scope is None or run_id == scope:
        return
    current: str | None = run_id
    for _ in range(MAX_DEPTH):
        if current is None:
            break
        try:
            current = store.get_run(current).parent_run_id
        except NotFound:
            break
        if current == scope:
            return
    raise Forbidden(
        f"{principal.name} may write only run {scope!r} and its child runs, not {run_id!r}."
    )


def check_runs_write(principal: Principal, store: TrackingStore, run_ids: Iterable[str]) -> None:
    """:func:`check_run_write` for each run of a batch (metrics of several runs)."""
    if principal.run_scope is None:
        return
    for run_id in sorted(set(run_ids)):
        check_run_write(principal, store, run_id)


def check_new_run(principal: Principal, store: TrackingStore, parent_run_id: str | None) -> None:
    """Allow ``principal`` to create a run under ``parent_run_id`` (None: a top-level
    run, which a run-scoped principal may not create).

    Raises:
        Forbidden: the new run would be outside the principal's run scope.
    """
    if principal.run_scope is None:
        return
    if parent_run_id is None:
        raise Forbidden(
            f"{principal.name} may create only child runs of run {principal.run_scope!r}; "
            "pass its id (or a child's) as the parent."
        )
    check_run_write(principal, store, parent_run_id)


__all__ = ["check_new_run", "check_run_write", "check_runs_write"]
