"""``tracking.series.kept_indexes`` (the adapters' fast bucketing) keeps exactly what the
reference ``paging.keep_in_buckets`` keeps, whatever the values."""

from __future__ import annotations

import math
import random

import pytest

from runyard.tracking.paging import keep_in_buckets
from runyard.tracking.series import build, kept_indexes

SPECIAL = [0.0, -0.0, 1.0, -1.0, math.nan, math.inf, -math.inf, 2.5, 1e308, -1e308]


def _values(rng: random.Random, n: int) -> list[float]:
    mode = rng.random()
    if mode < 0.3:  # special values only: NaN, infinities, signed zeros, overflowing sums
        return [rng.choice(SPECIAL) for _ in range(n)]
    if mode < 0.6:  # few distinct values: many ties
        return [float(rng.randint(-3, 3)) for _ in range(n)]
    return [rng.gauss(0, 1) if rng.random() > 0.05 else math.nan for _ in range(n)]


@pytest.mark.parametrize("seed", range(4))
def test_kept_indexes_match_the_reference_on_random_series(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(2000):
        values = _values(rng, rng.randint(0, 80))
        max_points = rng.randint(3, 90)
        assert list(kept_indexes(values, max_points)) == keep_in_buckets(values, max_points)


def test_no_max_points_or_a_short_series_keeps_everything() -> None:
    assert list(kept_indexes([3.0, 1.0], None)) == [0, 1]
    assert list(kept_indexes([3.0, 1.0, 2.0], 3)) == [0, 1, 2]


def test_build_picks_the_kept_values_with_their_steps_and_times() -> None:
    values = [5.0, 1.0, 9.0, 2.0, math.nan, 3.0, 4.0]
    line = build("r", "loss", list(range(7)), values, [float(i) / 2 for i in range(7)], 3)
    assert line.steps == (1, 2, 6)
    assert line.values == (1.0, 9.0, 4.0) and line.times == (0.5, 1.0, 3.0)
    only_nan = build("r", "loss", [0, 1, 2, 3], [math.nan] * 4, [0.0] * 4, 3)
    assert only_nan.steps == (3,)
