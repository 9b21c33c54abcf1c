"""The data set of bench_search.py, described once for both sides (standard library only,
so MLflow's side, in its own venv, builds exactly the same runs, tags and values).

Run ``i`` (0-based) of ``runs`` has tags ``group = g<i % 10>`` (10 % of the runs each) and,
for one run in 100, ``rare = yes``; three scalar metrics logged at steps 0, 1, ...: ``loss``
(80 % of the run's points), ``accuracy`` and ``lr`` (10 % each). Values are arithmetic on
``i`` and the step, the same in SQLite and PostgreSQL, so every page can be checked
against the other side's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

T0 = 1_760_000_000.0  # the first run's creation time (Unix seconds)

# Each metric: its share of a run's points and its value as SQL on ``{i}`` (the run's
# index) and ``{step}`` (``{fstep}``: the step as a double, so no division is an integer one;
# modulo stays on integers, which PostgreSQL needs).
METRICS = {
    "loss": (
        0.8,
        "(1.0 + (({i} * 7919) % 1000) / 1000.0) / (1.0 + {fstep} * 0.05)"
        " + (({i} * 31 + {step} * 17) % 100) / 10000.0",
    ),
    "accuracy": (0.1, "(({i} * 13 + {step}) % 1000) / 1000.0"),
    "lr": (0.1, "0.001 * (({i} % 7) + 1) / ({fstep} + 1.0)"),
}


@dataclass(frozen=True)
class Shape:
    """How big the data set is: ``runs`` runs of ``points`` points each."""

    runs: int
    points: int

    @property
    def total_points(self) -> int:
        return self.runs * sum(self.steps(name) for name in METRICS)

    def steps(self, metric: str) -> int:
        """How many values of ``metric`` each run has."""
        return round(self.points * METRICS[metric][0])

    @property
    def label(self) -> str:
        return f"{self.runs}x{self.points}"

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def value_sql(metric: str, index: str, step: str) -> str:
    """The SQL of ``metric``'s value with the run index and the step as the given
    expressions (cast to double so integer division never happens)."""
    return METRICS[metric][1].format(i=index, step=step, fstep=f"CAST({step} AS DOUBLE PRECISION)")


def group_of(i: int) -> str:
    return f"g{i % 10}"


def is_rare(i: int) -> bool:
    return i % 100 == 0


def tags_of(i: int) -> dict[str, str]:
    tags = {"group": group_of(i)}
    if is_rare(i):
        tags["rare"] = "yes"
    return tags


def loss_at(i: int, step: int) -> float:
    """``loss`` of run ``i`` at ``step``, as the SQL computes it (for checks)."""
    return (1.0 + ((i * 7919) % 1000) / 1000.0) / (1.0 + step * 0.05) + (
        (i * 31 + step * 17) % 100
    ) / 10000.0
