"""Linear assignment with a cost limit (Hungarian step through ``lap``) and Deep SORT's cascade.

Contract (as in ``lap.lapjv``): a pair may be matched only if its cost is at most ``cost_limit``;
leaving a row and a column unmatched costs ``cost_limit`` in total. Infinite or NaN costs mark
impossible pairs.
"""

from __future__ import annotations

import math

import lap
import numpy as np

#: Stand-in for impossible pairs: finite (``lap`` needs finite costs) and far above any limit.
INFEASIBLE = 1e5

_EMPTY = np.zeros(0, dtype=np.int64)


def linear_assignment(cost: np.ndarray, cost_limit: float) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-cost matching of rows to columns, pairs costing more than ``cost_limit`` excluded.

    cost: (N, M) float; inf/NaN entries are impossible pairs. Returns ``(rows, cols)``, two
    int64 arrays of equal length: the matched pairs, sorted by row.
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2:
        raise ValueError(f"cost must be a 2-D matrix, got shape {cost.shape}")
    if cost.size == 0:
        return _EMPTY, _EMPTY
    if not math.isfinite(cost_limit) or cost_limit <= 0:
        raise ValueError(f"cost_limit must be finite and > 0, got {cost_limit}")
    feasible = cost <= cost_limit  # False for NaN and inf
    if not np.count_nonzero(feasible):
        return _EMPTY, _EMPTY
    cost = np.where(feasible, cost, INFEASIBLE)
    _, x, _ = lap.lapjv(cost, extend_cost=True, cost_limit=cost_limit)
    rows = (x >= 0).nonzero()[0]
    return rows, x[rows].astype(np.int64)


def matching_cascade(cost: np.ndarray, levels: np.ndarray, cost_limit: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Deep SORT's matching cascade: rows are matched level by level, lowest level first.

    cost: (N, M); levels: (N,) int, e.g. frames since each track's last update. Rows of a level
    compete only for the columns left unmatched by lower levels, so recently seen tracks take
    priority. Returns ``(rows, cols)`` like :func:`linear_assignment`.
    """
    levels = np.asarray(levels)
    n, m = cost.shape
    if n == 0 or m == 0:
        return _EMPTY, _EMPTY
    # levels whose rows have no feasible pair cannot match anything: skip them
    live = (cost <= cost_limit).any(axis=1)
    free_cols = np.arange(m)
    all_rows, all_cols = [], []
    live_levels = levels[live]
    level_list = sorted(set(live_levels.tolist()))
    if len(level_list) == 1:  # the usual case: one assignment over the live rows
        rows = live.nonzero()[0]
        r, c = linear_assignment(cost[rows], cost_limit)
        return rows[r], c
    for level in level_list:
        if free_cols.size == 0:
            break
        rows = (live & (levels == level)).nonzero()[0]
        r, c = linear_assignment(cost[rows][:, free_cols], cost_limit)
        if r.size:
            all_rows.append(rows[r])
            all_cols.append(free_cols[c])
            keep = np.ones(free_cols.size, bool)
            keep[c] = False
            free_cols = free_cols[keep]
    if not all_rows:
        return _EMPTY, _EMPTY
    if len(all_rows) == 1:
        return all_rows[0], all_cols[0]  # rows of one level are sorted already
    rows, cols = np.concatenate(all_rows), np.concatenate(all_cols)
    order = np.argsort(rows)
    return rows[order], cols[order]
