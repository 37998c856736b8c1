"""Goodput: the highest offered rate whose tail latency meets the SLO, found by bisection.

The same search runs over real LoadGen Server points and over simulated ones. The bracket starts
at [0, peak], peak being the Offline throughput: at that rate a server is saturated and its queue
grows without bound, so it is taken to miss any SLO without spending a point on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SearchResult:
    goodput_qps: float  # the highest tested rate that met the SLO; 0 when none did
    points: list[Any] = field(default_factory=list)  # whatever ``measure`` returned, in order
    bracket: tuple[float, float] = (0.0, 0.0)  # highest pass, lowest fail
    converged: bool = False
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "converged": self.converged,
            "bracket_qps": list(self.bracket),
            "points": len(self.points),
            "note": self.note,
        }


def search_goodput(
    measure: Callable[[float], Any],
    meets: Callable[[Any], bool],
    peak_qps: float,
    *,
    max_points: int,
    tolerance: float,
    progress: Callable[[int, float], None] | None = None,
) -> SearchResult:
    """Bisect on offered QPS in (0, ``peak_qps``).

    ``measure(qps)`` runs one point; ``meets(point)`` says whether it met the SLO. Stops when the
    bracket is narrower than ``tolerance`` times its top, or after ``max_points`` points; in that
    case the result says it did not converge and gives the bracket.
    """
    if peak_qps <= 0:
        return SearchResult(0.0, note="The variant completed no queries: no rate to search.")
    lo, hi = 0.0, float(peak_qps)
    points: list[Any] = []
    while len(points) < max_points and hi - lo > tolerance * hi:
        qps = (lo + hi) / 2
        if progress is not None:
            progress(len(points), qps)
        point = measure(qps)
        points.append(point)
        if meets(point):
            lo = qps
        else:
            hi = qps
    converged = hi - lo <= tolerance * hi
    note = None
    if not converged:
        if lo == 0:
            note = (
                f"No tested rate met the SLO within {max_points} points: goodput is below "
                f"{hi:.3g} QPS, the lowest rate tried."
            )
        else:
            note = (
                f"The search did not converge within {max_points} points: goodput lies between "
                f"{lo:.3g} and {hi:.3g} QPS; {lo:.3g} is reported."
            )
    return SearchResult(lo, points, (lo, hi), converged, note)
