"""Sets of operation numbers as sorted, disjoint [first, last] intervals (what a database holds per origin).

A station numbers its operations 1, 2, 3, …; what a hub holds is nearly always one interval, so this stays tiny
in the database and in acknowledgements however many operations there are.
"""

from __future__ import annotations

from bisect import bisect_right


def contains(ranges: list[list[int]], n: int) -> bool:
    i = bisect_right(ranges, [n, float("inf")]) - 1
    return i >= 0 and ranges[i][0] <= n <= ranges[i][1]


def add(ranges: list[list[int]], n: int) -> None:
    """Add n in place, joining neighbours."""
    i = bisect_right(ranges, [n, float("inf")])
    if i > 0 and ranges[i - 1][1] >= n:
        return
    joins_left = i > 0 and ranges[i - 1][1] == n - 1
    joins_right = i < len(ranges) and ranges[i][0] == n + 1
    if joins_left and joins_right:
        ranges[i - 1][1] = ranges[i][1]
        del ranges[i]
    elif joins_left:
        ranges[i - 1][1] = n
    elif joins_right:
        ranges[i][0] = n
    else:
        ranges.insert(i, [n, n])


def prefix_end(ranges: list[list[int]]) -> int:
    """The largest n such that 1..n are all held (0 when 1 is not)."""
    return ranges[0][1] if ranges and ranges[0][0] == 1 else 0


def union(a: list[list[int]], b: list[list[int]]) -> list[list[int]]:
    out: list[list[int]] = []
    for first, last in sorted([*a, *b]):
        if out and first <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], last)
        else:
            out.append([first, last])
    return out


def covers(ranges: list[list[int]], first: int, last: int) -> bool:
    i = bisect_right(ranges, [first, float("inf")]) - 1
    return i >= 0 and ranges[i][0] <= first and last <= ranges[i][1]


def valid(value) -> bool:
    """A well-formed interval list (as it arrives in a package's acknowledgements)."""
    if not isinstance(value, list):
        return False
    prev = 0
    for r in value:
        if not (isinstance(r, list) and len(r) == 2 and all(type(x) is int for x in r) and prev < r[0] <= r[1]):
            return False
        prev = r[1] + 1
    return True


def from_sorted(numbers) -> list[list[int]]:
    out: list[list[int]] = []
    for n in numbers:
        if out and n == out[-1][1] + 1:
            out[-1][1] = n
        elif not out or n > out[-1][1]:
            out.append([n, n])
    return out
