"""Plan the county's delivery trucks (and a partner's motorbike run) with PyVRP.

A plain data model, free of Django models so that pages, services, tests and the
benchmark all plan the same way:

    problem = RoutingProblem(
        depot=Depot("WH", opens_s=7 * 3600, closes_s=19 * 3600),
        stops=(Stop("S001", demand=(12, 340), service_s=600, opens_s=9 * 3600,
                    closes_s=18 * 3600), ...),
        vehicles=(Vehicles(count=3, capacity=(120, 4000), max_duration_s=8 * 3600),),
        travel=matrix,                       # distances.TravelMatrix naming WH and S001...
        dimensions=("parcels", "litres"),
    )
    plan = plan_routes(problem, time_limit_s=5)
    check_plan(problem, plan)                # independent re-check; raises PlanError

Times are whole seconds from the planning day's midnight in the network time zone; the
caller converts. A stop's window bounds when service *starts*; a truck that arrives
early waits. Depot hours bound when trucks leave and return. Routes minimise road
metres; a route's duration runs from leaving the depot to coming back, waiting included.

Reading PyVRP 0.14 routes: iterating a route yields depot and client activities, and a
client activity's `.idx` counts clients from 0 (location `idx + num_depots`). Here the
clients are made in the order of `problem.stops`, so client `idx` is `problem.stops[idx]`
and nothing else (see `_extract`).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context

import numpy as np
import pyvrp
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxRuntime

from cuntao.core.errors import DomainError

from .distances import TravelMatrix

logger = logging.getLogger(__name__)

DAY_S = 24 * 3600
# PyVRP's "no limit"; also an upper bound for windows and matrix entries.
_UNBOUNDED = int(np.iinfo(np.int64).max)  # PyVRP's own "no limit" (the Model default)
_MAX_MATRIX_VALUE = 10**9  # a metre or second count above this is a data error


# --- Problem -------------------------------------------------------------------------

# Words for the capacity dimensions in messages; an unknown dimension shows its own name.
DIMENSION_LABELS = {"parcels": gettext_lazy("parcels"), "litres": gettext_lazy("litres"),
                    "volume": gettext_lazy("litres")}


@dataclass(frozen=True)
class Depot:
    """Where every truck starts and ends (the county warehouse), with its hours.

    `closes_s=None` sets no closing time (no time windows at all when the stops have
    none either, which lets the solver skip timing work).
    """

    id: str
    opens_s: int = 0
    closes_s: int | None = DAY_S


@dataclass(frozen=True)
class Stop:
    """A station to serve: its load per dimension, time to unload and opening hours."""

    id: str
    demand: tuple[int, ...]
    service_s: int = 0
    opens_s: int | None = None
    closes_s: int | None = None

    def __post_init__(self):
        demand = (self.demand,) if isinstance(self.demand, int) else tuple(self.demand)
        object.__setattr__(self, "demand", demand)


@dataclass(frozen=True)
class Vehicles:
    """`count` identical vehicles: capacity per dimension and longest route in seconds."""

    count: int
    capacity: tuple[int, ...]
    max_duration_s: int | None = None
    name: str = "truck"

    def __post_init__(self):
        capacity = (self.capacity,) if isinstance(self.capacity, int) else tuple(self.capacity)
        object.__setattr__(self, "capacity", capacity)


@dataclass(frozen=True)
class RoutingProblem:
    """One day's plan to make: a depot, the stops, the fleet and the road matrix.

    `travel` may name more places than the problem uses (a county's whole matrix);
    it must name the depot and every stop. `dimensions` names the load dimensions, in
    the order of every `Stop.demand` and `Vehicles.capacity`. With `allow_unassigned`
    the plan may leave out stops the fleet cannot serve (listed in
    `RoutePlan.unassigned`) instead of failing.
    """

    depot: Depot
    stops: tuple[Stop, ...]
    vehicles: tuple[Vehicles, ...]
    travel: TravelMatrix
    dimensions: tuple[str, ...] = ("parcels",)
    allow_unassigned: bool = False

    def __post_init__(self):
        vehicles = self.vehicles
        if isinstance(vehicles, Vehicles):
            vehicles = (vehicles,)
        object.__setattr__(self, "vehicles", tuple(vehicles))
        object.__setattr__(self, "stops", tuple(self.stops))
        object.__setattr__(self, "dimensions", tuple(self.dimensions))

    @property
    def codes(self) -> tuple[str, ...]:
        """The depot first, then the stops in order: the row order of `matrices()`."""
        return (self.depot.id, *(s.id for s in self.stops))

    def matrices(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (metres, seconds) as int64 arrays in the order of `codes`."""
        sub = self.travel.restricted_to(self.codes)
        return np.array(sub.metres, dtype=np.int64), np.array(sub.seconds, dtype=np.int64)


# --- Plan ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """A stop on a route: when the vehicle arrives, starts unloading and leaves."""

    stop_id: str
    arrival_s: int
    start_s: int
    departure_s: int


@dataclass(frozen=True)
class Route:
    """One vehicle's trip: its stops in order, what it carries, how far and how long."""

    vehicle: str  # the Vehicles.name
    vehicle_no: int  # 1-based, counted across the whole fleet
    visits: tuple[Visit, ...]
    departure_s: int
    return_s: int
    load: tuple[int, ...]
    distance_m: int
    duration_s: int

    @property
    def stop_ids(self) -> tuple[str, ...]:
        return tuple(v.stop_id for v in self.visits)


@dataclass(frozen=True)
class RoutePlan:
    """The solver's answer: routes, stops left out, and the totals (cost = metres)."""

    routes: tuple[Route, ...]
    unassigned: tuple[str, ...]
    distance_m: int
    duration_s: int
    cost: int
    solver_seconds: float = 0.0
    seed: int = 0
    runs: int = 1
    iterations: int = field(default=0, compare=False)


class NoFeasiblePlan(DomainError):
    """The solver found no plan that meets every constraint within the time limit."""

    code = "no_feasible_plan"


class PlanError(AssertionError):
    """`check_plan` found a plan that breaks the problem's rules (a programming error)."""


# --- Validation ----------------------------------------------------------------------


def _clock(seconds: int) -> str:
    day, rest = divmod(int(seconds), DAY_S)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    return text if day == 0 else f"{text} (+{day}d)"


def validate_problem(problem: RoutingProblem) -> tuple[np.ndarray, np.ndarray]:
    """Refuse a problem no plan can satisfy, before solving; return its matrices.

    Raises ValidationError for malformed input and DomainError for a well-formed
    problem that cannot be served (no vehicles, too little capacity, unreachable hours).
    """
    dims = len(problem.dimensions)
    depot = problem.depot
    if dims < 1:
        raise ValidationError({"dimensions": [_("Name at least one load dimension.")]})
    if not problem.vehicles or sum(max(v.count, 0) for v in problem.vehicles) == 0:
        raise DomainError(_("There are no vehicles to plan routes with."), code="no_vehicles")
    for v in problem.vehicles:
        if v.count < 0:
            raise ValidationError({"vehicles": [_("A vehicle count cannot be negative.")]})
        if len(v.capacity) != dims:
            raise ValidationError({"vehicles": [
                _("Each vehicle needs a capacity for each of %(dims)s.")
                % {"dims": ", ".join(problem.dimensions)}]})
        if any(not isinstance(c, int) or c < 0 for c in v.capacity):
            raise ValidationError({"vehicles": [_("A vehicle capacity must be a whole number, not negative.")]})
        if v.count and all(c == 0 for c in v.capacity):
            raise DomainError(
                _("The vehicles %(name)s have zero capacity.") % {"name": v.name},
                code="zero_capacity")
        if v.max_duration_s is not None and v.max_duration_s <= 0:
            raise ValidationError({"vehicles": [
                _("The maximum route duration must be more than zero.")]})
    depot_closes = depot.closes_s if depot.closes_s is not None else _UNBOUNDED
    if depot.opens_s < 0 or depot_closes <= depot.opens_s:
        raise ValidationError({"depot": [
            _("The depot must open before it closes (opens %(opens)s, closes %(closes)s).")
            % {"opens": _clock(max(depot.opens_s, 0)), "closes": _clock(max(depot_closes, 0))}]})

    seen = {depot.id}
    for s in problem.stops:
        if s.id in seen:
            raise ValidationError({"stops": [
                _("The stop %(id)s appears twice (or shares the depot's code).") % {"id": s.id}]})
        seen.add(s.id)
        if len(s.demand) != dims or any(not isinstance(d, int) or d < 0 for d in s.demand):
            raise ValidationError({"stops": [
                _("The stop %(id)s needs a whole, non-negative demand for each of %(dims)s.")
                % {"id": s.id, "dims": ", ".join(problem.dimensions)}]})
        if s.service_s < 0:
            raise ValidationError({"stops": [
                _("The stop %(id)s has a negative service time.") % {"id": s.id}]})
        if (s.opens_s is not None and s.closes_s is not None and s.closes_s < s.opens_s) \
                or (s.closes_s is not None and s.closes_s < 0):
            raise DomainError(
                _("The stop %(id)s closes (%(closes)s) before it opens (%(opens)s).")
                % {"id": s.id, "closes": _clock(max(s.closes_s, 0)),
                   "opens": _clock(max(s.opens_s or 0, 0))},
                code="impossible_time_window")

    metres, seconds = problem.matrices()
    for m in (metres, seconds):
        if (m < 0).any() or (m > _MAX_MATRIX_VALUE).any():
            raise ValidationError({"travel": [
                _("Distances and times must be between 0 and %(max)d.")
                % {"max": _MAX_MATRIX_VALUE}]})

    fleet = [v for v in problem.vehicles if v.count > 0]
    for i, s in enumerate(problem.stops, start=1):
        carriers = [v for v in fleet if all(d <= c for d, c in zip(s.demand, v.capacity))]
        if not carriers:
            biggest = max(fleet, key=lambda v: v.capacity)
            raise DomainError(
                _("The stop %(id)s needs %(demand)s, more than any vehicle carries "
                  "(the largest carries %(capacity)s).")
                % {"id": s.id, "demand": _amounts(problem, s.demand),
                   "capacity": _amounts(problem, biggest.capacity)},
                code="stop_over_capacity")
        # The earliest this stop can be served, and the earliest the truck is back.
        arrive = depot.opens_s + int(seconds[0, i])
        start = max(arrive, s.opens_s or 0)
        closes = s.closes_s if s.closes_s is not None else _UNBOUNDED
        if start > closes:
            raise DomainError(
                _("The stop %(id)s closes at %(closes)s, but a truck leaving the depot at "
                  "%(opens)s cannot arrive before %(arrive)s.")
                % {"id": s.id, "closes": _clock(closes), "opens": _clock(depot.opens_s),
                   "arrive": _clock(arrive)},
                code="impossible_time_window")
        back = start + s.service_s + int(seconds[i, 0])
        if back > depot_closes:
            raise DomainError(
                _("A truck serving the stop %(id)s cannot be back at the depot before it "
                  "closes at %(closes)s (the earliest return is %(back)s).")
                % {"id": s.id, "closes": _clock(depot.closes_s), "back": _clock(back)},
                code="impossible_time_window")
        # Shortest possible route through this stop alone, waiting avoided by leaving late.
        shortest = int(seconds[0, i]) + s.service_s + int(seconds[i, 0])
        if all(v.max_duration_s is not None and shortest > v.max_duration_s for v in carriers):
            raise DomainError(
                _("The stop %(id)s needs a route of at least %(minutes)d minutes there and "
                  "back, longer than any vehicle that can carry it may drive.")
                % {"id": s.id, "minutes": math.ceil(shortest / 60)},
                code="stop_too_far")

    if not problem.allow_unassigned:
        for d, name in enumerate(problem.dimensions):
            need = sum(s.demand[d] for s in problem.stops)
            have = sum(v.count * v.capacity[d] for v in fleet)
            if need > have:
                raise DomainError(
                    _("The stops need %(need)d %(dimension)s but the %(vehicles)d vehicles "
                      "carry at most %(have)d: %(over)d %(dimension)s too many.")
                    % {"need": need, "dimension": DIMENSION_LABELS.get(name, name), "have": have, "over": need - have,
                       "vehicles": sum(v.count for v in fleet)},
                    code="fleet_over_capacity")
    return metres, seconds


def _amounts(problem: RoutingProblem, values: Sequence[int]) -> str:
    return ", ".join(f"{v} {name}" for v, name in zip(values, problem.dimensions))


# --- Solving -------------------------------------------------------------------------


def _problem_data(problem: RoutingProblem, metres: np.ndarray, seconds: np.ndarray):
    """Build PyVRP's ProblemData: location 0 is the depot, location i the stop i-1."""
    depot = problem.depot
    locations = [pyvrp.Location(x=0.0, y=0.0, name=code) for code in problem.codes]
    depot_closes = depot.closes_s if depot.closes_s is not None else _UNBOUNDED
    prize = 2 * int(metres.max()) + 1 if problem.allow_unassigned else 0
    clients = [
        pyvrp.Client(
            location=i,
            delivery=list(s.demand),
            service_duration=s.service_s,
            tw_early=s.opens_s or 0,
            tw_late=s.closes_s if s.closes_s is not None else _UNBOUNDED,
            # A prize above any detour: a stop is left out only if no vehicle can serve it.
            prize=prize,
            required=not problem.allow_unassigned,
            name=s.id,
        )
        for i, s in enumerate(problem.stops, start=1)
    ]
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=v.count,
            capacity=list(v.capacity),
            start_depot=0,
            end_depot=0,
            tw_early=depot.opens_s,
            tw_late=depot_closes,
            shift_duration=v.max_duration_s if v.max_duration_s is not None else _UNBOUNDED,
            unit_distance_cost=1,
            unit_duration_cost=0,
            name=v.name,
        )
        for v in problem.vehicles
        if v.count > 0
    ]
    return pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=[pyvrp.Depot(location=0, tw_early=depot.opens_s, tw_late=depot_closes)],
        vehicle_types=vehicle_types,
        distance_matrices=[metres],
        duration_matrices=[seconds],
    )


def _solve_until(data, seed: int, deadline: float):
    """Run PyVRP with `seed` until the monotonic `deadline`; a child process entry point.

    CLOCK_MONOTONIC is system-wide on Linux, so a deadline taken in the parent holds here.
    """
    remaining = max(deadline - time.monotonic(), 0.01)
    with warnings.catch_warnings():
        # Raised when no feasible plan is in sight; the caller reports that itself.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        result = pyvrp.solve(data, MaxRuntime(remaining), seed=seed, collect_stats=False,
                             display=False)
    return result.best, result.num_iterations


_POOL: ProcessPoolExecutor | None = None


def _pool(workers: int) -> ProcessPoolExecutor:
    # One long-lived pool: forkserver children start from a clean interpreter (never a
    # fork of a threaded web worker) and keep pyvrp imported between plans.
    global _POOL
    if _POOL is None or _POOL._max_workers < workers:
        if _POOL is not None:
            _POOL.shutdown(wait=False, cancel_futures=True)
        ctx = get_context("forkserver")
        ctx.set_forkserver_preload(["pyvrp", "numpy"])
        _POOL = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    return _POOL


def _reset_pool() -> None:
    global _POOL
    if _POOL is not None:
        _POOL.shutdown(wait=False, cancel_futures=True)
    _POOL = None


def warm_up(workers: int = 2) -> None:
    """Start the helper processes ahead of the first plan (optional)."""
    if workers > 1:
        pool = _pool(workers - 1)
        list(pool.map(_noop, range(workers - 1)))


def _noop(_):
    return None


def plan_routes(problem: RoutingProblem, *, time_limit_s: float, seed: int = 1,
                workers: int = 1) -> RoutePlan:
    """Plan routes for `problem` within about `time_limit_s` seconds of wall clock.

    With `workers` > 1, that many independent searches (seeds `seed`, `seed + 1`, ...)
    run at once, one here and the rest in helper processes, and the cheapest feasible
    plan wins. Measured with bench/routes.py on the shared 2-core machine (busy with
    other work), two searches did not beat one (mean gap 1.31 % vs 0.86 % at 5 s, 0.50 %
    vs 0.44 % at 20 s): each search gets less CPU and a time-limited search gains more
    from iterations than from a second seed. So the default is one; an idle dedicated
    planning machine may pass 2.

    Raises ValidationError / DomainError for a bad problem (before solving) and
    NoFeasiblePlan when no plan meets every constraint in time. The result passes
    `check_plan`.
    """
    if not time_limit_s > 0:
        raise ValidationError({"time_limit_s": [_("The time limit must be positive.")]})
    started = time.monotonic()
    metres, seconds = validate_problem(problem)
    if not problem.stops:
        return RoutePlan(routes=(), unassigned=(), distance_m=0, duration_s=0, cost=0,
                         solver_seconds=0.0, seed=seed, runs=0)
    data = _problem_data(problem, metres, seconds)
    deadline = started + time_limit_s
    workers = max(1, min(int(workers), os.cpu_count() or 1))
    futures = []
    if workers > 1:
        try:
            pool = _pool(workers - 1)
            futures = [pool.submit(_solve_until, data, seed + k, deadline)
                       for k in range(1, workers)]
        except (BrokenProcessPool, OSError):
            # A helper died earlier (or none can start): plan alone, start afresh next time.
            logger.exception("Helper route searches are unavailable")
            _reset_pool()
            futures = []
    outcomes = [_solve_until(data, seed, deadline)]
    for f in futures:
        try:
            outcomes.append(f.result(timeout=time_limit_s + 30))
        except Exception:  # a lost helper only costs its search; the plan stands
            logger.exception("A helper route search failed")
            _reset_pool()
    elapsed = time.monotonic() - started

    def rank(outcome):
        solution = outcome[0]
        return (not solution.is_feasible(), solution.num_missing_clients(),
                solution.distance())

    best, _iterations = min(outcomes, key=rank)
    if not best.is_feasible():
        raise NoFeasiblePlan(_describe_infeasible(best, time_limit_s))
    plan = _extract(problem, best, metres, seconds)
    return RoutePlan(
        routes=plan.routes, unassigned=plan.unassigned, distance_m=plan.distance_m,
        duration_s=plan.duration_s, cost=plan.cost, solver_seconds=round(elapsed, 3),
        seed=seed, runs=len(outcomes), iterations=sum(o[1] for o in outcomes),
    )


def _describe_infeasible(solution, time_limit_s: float) -> str:
    reasons = []
    if solution.has_excess_load():
        reasons.append(_("some trucks would be over capacity"))
    if solution.has_time_warp():
        reasons.append(_("some stops would be reached outside their hours or routes "
                         "would run too long"))
    if solution.num_missing_clients():
        reasons.append(_("%(n)d stops could not be placed") % {"n": solution.num_missing_clients()})
    return _("No plan meets every constraint (found within %(seconds)s s: %(reasons)s). "
             "Add vehicles, lengthen the working day or move stops to another day.") % {
        "seconds": f"{time_limit_s:g}", "reasons": "; ".join(reasons) or _("unknown")}


def _extract(problem: RoutingProblem, solution, metres: np.ndarray,
             seconds: np.ndarray) -> RoutePlan:
    """Turn a PyVRP solution into a RoutePlan, times recomputed from the matrix.

    A client activity's `idx` is the client's index (0-based among clients), so it is
    `problem.stops[idx]` and matrix row `idx + 1` (the depot is row 0).
    """
    used_types = [v for v in problem.vehicles if v.count > 0]
    numbers: dict[int, int] = {}
    firsts, n = [], 1
    for v in used_types:
        firsts.append(n)
        n += v.count
    routes = []
    served = set()
    for r in solution.routes():
        vt = r.vehicle_type()
        kind = used_types[vt]
        vehicle_no = firsts[vt] + numbers.get(vt, 0)
        numbers[vt] = numbers.get(vt, 0) + 1
        stop_indices = [a.idx for a in r if a.is_client()]
        served.update(stop_indices)
        stops = [problem.stops[k] for k in stop_indices]
        rows = [k + 1 for k in stop_indices]
        visits, t, prev = [], int(r.start_time()), 0
        departure = t
        for stop, row in zip(stops, rows):
            arrival = t + int(seconds[prev, row])
            start = max(arrival, stop.opens_s or 0)
            t = start + stop.service_s
            visits.append(Visit(stop_id=stop.id, arrival_s=arrival, start_s=start,
                                departure_s=t))
            prev = row
        back = t + int(seconds[prev, 0])
        path = [0, *rows, 0]
        distance = int(sum(metres[a, b] for a, b in itertools.pairwise(path)))
        load = tuple(sum(s.demand[d] for s in stops) for d in range(len(problem.dimensions)))
        routes.append(Route(vehicle=kind.name, vehicle_no=vehicle_no, visits=tuple(visits),
                            departure_s=departure, return_s=back, load=load,
                            distance_m=distance, duration_s=back - departure))
    routes.sort(key=lambda r: r.vehicle_no)
    unassigned = tuple(s.id for k, s in enumerate(problem.stops) if k not in served)
    total = sum(r.distance_m for r in routes)
    return RoutePlan(routes=tuple(routes), unassigned=unassigned, distance_m=total,
                     duration_s=sum(r.duration_s for r in routes), cost=total)


def plan_from_sequences(problem: RoutingProblem, sequences: Sequence[Sequence[str]],
                        *, vehicle: str | None = None) -> RoutePlan:
    """Build a RoutePlan from stop orders chosen elsewhere (by hand or another solver).

    Each sequence is one route of the first vehicle kind (or of `vehicle`), in order;
    stops in no sequence are unassigned. Each route leaves the depot when it opens, or
    later so as to reach its first stop as it opens. Nothing is checked here: pass the
    result to `check_plan`.
    """
    kinds = [v for v in problem.vehicles if v.count > 0]
    kind = next((v for v in kinds if v.name == vehicle), kinds[0]) if kinds else None
    name = kind.name if kind else (vehicle or "")
    stops = {s.id: s for s in problem.stops}
    sub = problem.travel.restricted_to(problem.codes)
    row = {code: i for i, code in enumerate(sub.codes)}
    depot = problem.depot
    routes = []
    for n, sequence in enumerate((s for s in sequences if s), start=1):
        first = stops[sequence[0]]
        t = max(depot.opens_s, (first.opens_s or 0) - sub.seconds[0][row[first.id]])
        departure, here, distance, visits = t, 0, 0, []
        for stop_id in sequence:
            stop, there = stops[stop_id], row[stop_id]
            distance += sub.metres[here][there]
            arrival = t + sub.seconds[here][there]
            start = max(arrival, stop.opens_s or 0)
            t = start + stop.service_s
            visits.append(Visit(stop_id=stop_id, arrival_s=arrival, start_s=start,
                                departure_s=t))
            here = there
        distance += sub.metres[here][0]
        back = t + sub.seconds[here][0]
        load = tuple(sum(stops[i].demand[d] for i in sequence)
                     for d in range(len(problem.dimensions)))
        routes.append(Route(vehicle=name, vehicle_no=n, visits=tuple(visits),
                            departure_s=departure, return_s=back, load=load,
                            distance_m=distance, duration_s=back - departure))
    routed = {i for s in sequences for i in s}
    total = sum(r.distance_m for r in routes)
    return RoutePlan(routes=tuple(routes),
                     unassigned=tuple(s.id for s in problem.stops if s.id not in routed),
                     distance_m=total, duration_s=sum(r.duration_s for r in routes),
                     cost=total)


# --- Independent check ---------------------------------------------------------------


def check_plan(problem: RoutingProblem, plan: RoutePlan) -> int:
    """Verify `plan` against `problem` from first principles; return its cost in metres.

    Shares nothing with the solver path but the problem: every stop exactly once (or
    listed as unassigned when the problem allows it), no vehicle over capacity, no more
    routes than vehicles of each kind, depot hours, stop windows, route durations, and
    the reported arrival times, distances and cost. Raises PlanError naming the fault.
    """
    sub = problem.travel.restricted_to(problem.codes)
    row = {code: i for i, code in enumerate(sub.codes)}
    stops = {s.id: s for s in problem.stops}
    kinds = {}
    for v in problem.vehicles:
        kinds.setdefault(v.name, []).append(v)
    counts: dict[str, int] = {}
    seen: dict[str, int] = {}
    total = 0
    depot = problem.depot

    def fail(message: str):
        raise PlanError(message)

    for route in plan.routes:
        if route.vehicle not in kinds:
            fail(f"route of vehicle {route.vehicle_no} uses an unknown vehicle {route.vehicle!r}")
        counts[route.vehicle] = counts.get(route.vehicle, 0) + 1
        fleet = kinds[route.vehicle]
        if not route.visits:
            fail(f"vehicle {route.vehicle_no} has an empty route")
        load = [0] * len(problem.dimensions)
        t = route.departure_s
        if t < depot.opens_s:
            fail(f"vehicle {route.vehicle_no} leaves at {t}, before the depot opens")
        here = row[depot.id]
        distance = 0
        for visit in route.visits:
            if visit.stop_id not in stops:
                fail(f"vehicle {route.vehicle_no} visits unknown stop {visit.stop_id!r}")
            seen[visit.stop_id] = seen.get(visit.stop_id, 0) + 1
            stop = stops[visit.stop_id]
            there = row[stop.id]
            distance += sub.metres[here][there]
            arrival = t + sub.seconds[here][there]
            start = max(arrival, stop.opens_s or 0)
            if stop.closes_s is not None and start > stop.closes_s:
                fail(f"vehicle {route.vehicle_no} starts at {stop.id} at {start}, "
                     f"after it closes at {stop.closes_s}")
            if (visit.arrival_s, visit.start_s) != (arrival, start):
                fail(f"vehicle {route.vehicle_no} reports arrival {visit.arrival_s}/"
                     f"{visit.start_s} at {stop.id}, recomputed {arrival}/{start}")
            t = start + stop.service_s
            if visit.departure_s != t:
                fail(f"vehicle {route.vehicle_no} reports leaving {stop.id} at "
                     f"{visit.departure_s}, recomputed {t}")
            load = [a + b for a, b in zip(load, stop.demand)]
            here = there
        distance += sub.metres[here][row[depot.id]]
        back = t + sub.seconds[here][row[depot.id]]
        if depot.closes_s is not None and back > depot.closes_s:
            fail(f"vehicle {route.vehicle_no} is back at {back}, after the depot closes")
        if back != route.return_s:
            fail(f"vehicle {route.vehicle_no} reports return {route.return_s}, recomputed {back}")
        duration = back - route.departure_s
        if duration != route.duration_s:
            fail(f"vehicle {route.vehicle_no} reports duration {route.duration_s}, "
                 f"recomputed {duration}")
        if not any(all(a <= c for a, c in zip(load, v.capacity))
                   and (v.max_duration_s is None or duration <= v.max_duration_s)
                   for v in fleet):
            fail(f"vehicle {route.vehicle_no} carries {load} for {duration} s, beyond "
                 f"any {route.vehicle!r} (capacity/maximum duration)")
        if tuple(load) != tuple(route.load):
            fail(f"vehicle {route.vehicle_no} reports load {route.load}, recomputed {load}")
        if distance != route.distance_m:
            fail(f"vehicle {route.vehicle_no} reports {route.distance_m} m, "
                 f"recomputed {distance}")
        total += distance

    for name, n in counts.items():
        available = sum(v.count for v in kinds[name])
        if n > available:
            fail(f"{n} routes for {name!r} but only {available} such vehicles")
    twice = sorted(s for s, n in seen.items() if n > 1)
    if twice:
        fail(f"stops visited more than once: {twice}")
    for stop_id in plan.unassigned:
        if stop_id not in stops:
            fail(f"unknown unassigned stop {stop_id!r}")
        if stop_id in seen:
            fail(f"stop {stop_id} is both routed and unassigned")
    if len(set(plan.unassigned)) != len(plan.unassigned):
        fail("a stop is listed twice as unassigned")
    missing = sorted(set(stops) - set(seen) - set(plan.unassigned))
    if missing:
        fail(f"stops neither routed nor unassigned: {missing}")
    if plan.unassigned and not problem.allow_unassigned:
        fail(f"stops left unassigned: {sorted(plan.unassigned)}")
    if total != plan.distance_m or total != plan.cost:
        fail(f"plan reports {plan.distance_m} m / cost {plan.cost}, recomputed {total}")
    return total
