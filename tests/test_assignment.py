"""Assignment through lap against scipy's linear_sum_assignment, and the matching cascade."""

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from cosmot.tracker.assignment import linear_assignment, matching_cascade


def _scipy_with_limit(cost, limit):
    """The same problem for scipy: leaving a row and a column unmatched costs ``limit``
    (each pays limit / 2 through a dummy partner); pairs above the limit are forbidden."""
    n, m = cost.shape
    big = 1e9
    c = np.where(cost <= limit, cost, big)
    aug = np.zeros((n + m, m + n))
    aug[:n, :m] = c
    aug[:n, m:] = np.where(np.eye(n, dtype=bool), limit / 2, big)
    aug[n:, :m] = np.where(np.eye(m, dtype=bool), limit / 2, big)
    r, k = linear_sum_assignment(aug)
    keep = (r < n) & (k < m)
    return r[keep], k[keep]


@pytest.mark.parametrize("shape", [(1, 1), (5, 5), (3, 8), (9, 4), (20, 20)])
def test_equals_scipy_without_binding_limit(shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(20):
        cost = rng.random(shape)
        rows, cols = linear_assignment(cost, cost_limit=10.0)
        r_ref, c_ref = linear_sum_assignment(cost)
        assert len(rows) == min(shape)
        assert cost[rows, cols].sum() == pytest.approx(cost[r_ref, c_ref].sum(), abs=1e-12)
        np.testing.assert_array_equal(rows, r_ref)
        np.testing.assert_array_equal(cols, c_ref)


@pytest.mark.parametrize("limit", [0.1, 0.3, 0.5, 0.8])
def test_equals_scipy_with_cost_limit(limit):
    rng = np.random.default_rng(int(limit * 10))
    for _ in range(30):
        n, m = rng.integers(1, 12, 2)
        cost = rng.random((n, m))
        cost[rng.random((n, m)) < 0.2] = np.inf
        rows, cols = linear_assignment(cost, cost_limit=limit)
        r_ref, c_ref = _scipy_with_limit(cost, limit)
        assert set(zip(rows.tolist(), cols.tolist())) == set(zip(r_ref.tolist(), c_ref.tolist()))
        assert (cost[rows, cols] <= limit).all()
        # invariants: each row and column used at most once
        assert len(set(rows.tolist())) == len(rows) and len(set(cols.tolist())) == len(cols)


def test_empty_and_infeasible():
    r, c = linear_assignment(np.zeros((0, 3)), 1.0)
    assert r.size == 0 and c.size == 0
    r, c = linear_assignment(np.full((3, 3), np.inf), 1.0)
    assert r.size == 0
    with pytest.raises(ValueError, match="cost_limit"):
        linear_assignment(np.zeros((2, 2)), np.inf)


def test_cascade_gives_priority_to_recent_tracks():
    # Both tracks want detection 0. Globally track 0 wins (0.05 < 0.10); the cascade lets
    # track 1, seen 1 frame ago rather than 5, choose first.
    cost = np.array([[0.05, np.inf],
                     [0.10, np.inf]])
    levels = np.array([5, 1])
    r, c = linear_assignment(cost, 0.2)
    assert list(zip(r, c)) == [(0, 0)]
    r, c = matching_cascade(cost, levels, 0.2)
    assert list(zip(r, c)) == [(1, 0)]


def test_cascade_equals_global_when_one_level():
    rng = np.random.default_rng(7)
    cost = rng.random((6, 7))
    r1, c1 = matching_cascade(cost, np.ones(6, int), 0.5)
    r2, c2 = linear_assignment(cost, 0.5)
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_array_equal(c1, c2)


def test_cascade_levels_only_take_free_columns():
    rng = np.random.default_rng(8)
    cost = rng.random((10, 6)) * 0.4
    levels = rng.integers(1, 4, 10)
    rows, cols = matching_cascade(cost, levels, 0.5)
    assert len(set(cols.tolist())) == len(cols)
    # level 1 rows got what a separate assignment of level 1 alone gives
    l1 = np.flatnonzero(levels == 1)
    r_ref, c_ref = linear_assignment(cost[l1], 0.5)
    got = {int(r): int(c) for r, c in zip(rows, cols) if levels[r] == 1}
    assert got == {int(l1[r]): int(c) for r, c in zip(r_ref, c_ref)}
