"""The route planner on small problems whose answers are known by hand."""

import dataclasses
import math

import pytest
from django.core.exceptions import ValidationError

from cuntao.core.errors import DomainError
from cuntao.logistics.distances import TravelMatrix
from cuntao.logistics.routing import (
    Depot,
    NoFeasiblePlan,
    PlanError,
    RoutingProblem,
    Stop,
    Vehicles,
    check_plan,
    plan_from_sequences,
    plan_routes,
    validate_problem,
)

LIMIT = 0.3  # seconds; small problems are solved to optimality well within this


def euclid(points: dict[str, tuple[float, float]], *, metres_per_second: float = 10):
    """A matrix of rounded Euclidean metres between named points, driven at 10 m/s."""
    codes = tuple(points)
    metres = tuple(tuple(round(math.dist(points[a], points[b])) for b in codes) for a in codes)
    seconds = tuple(tuple(round(m / metres_per_second) for m in row) for row in metres)
    return TravelMatrix(codes=codes, metres=metres, seconds=seconds)


# Four stations on a cross around the warehouse, 1 and 2 km out.
CROSS = {"WH": (0, 0), "N1": (0, 1000), "N2": (0, 2000), "S1": (0, -1000), "S2": (0, -2000)}


def cross_problem(*, demand=(1, 1, 1, 1), capacity=2, count=2, **kwargs):
    stops = tuple(Stop(code, demand=(d,)) for code, d in zip(["N1", "N2", "S1", "S2"], demand))
    return RoutingProblem(
        depot=Depot("WH"), stops=stops,
        vehicles=(Vehicles(count=count, capacity=(capacity,)),), travel=euclid(CROSS),
        **kwargs,
    )


def test_tiny_cvrp_reaches_its_known_optimum():
    problem = cross_problem()
    plan = plan_routes(problem, time_limit_s=LIMIT, seed=3)
    # Optimum: one truck north, one south, 4 km each.
    assert plan.cost == 8000
    assert sorted(sorted(r.stop_ids) for r in plan.routes) == [["N1", "N2"], ["S1", "S2"]]
    assert check_plan(problem, plan) == 8000
    assert plan.unassigned == ()


def test_stop_ids_are_read_as_client_index_not_location():
    """PyVRP 0.14's client `.idx` counts from 0; the stop is stops[idx] (location idx+1).

    Read as a location, every stop would shift by one (N1 read as the depot, S2 lost),
    so the routed stops, their loads and distances would all be wrong.
    """
    problem = cross_problem(demand=(1, 4, 2, 3), capacity=5)
    plan = plan_routes(problem, time_limit_s=LIMIT, seed=1)
    routes = {frozenset(r.stop_ids): r for r in plan.routes}
    assert set(routes) == {frozenset({"N1", "N2"}), frozenset({"S1", "S2"})}
    assert routes[frozenset({"N1", "N2"})].load == (5,)
    assert routes[frozenset({"N1", "N2"})].distance_m == 4000
    north = routes[frozenset({"N1", "N2"})]
    # Arrival times follow the stops' own distances from the warehouse (10 m/s).
    assert {v.stop_id: v.arrival_s - north.departure_s for v in north.visits} in (
        {"N1": 100, "N2": 200}, {"N2": 200, "N1": 300})
    assert check_plan(problem, plan) == 8000


def test_capacity_is_respected_when_it_forces_extra_routes():
    # Loads 1,2,3,4 with capacity 5: N1+N2 (3) fits, S1+S2 (7) does not.
    problem = cross_problem(demand=(1, 2, 3, 4), capacity=5, count=3)
    plan = plan_routes(problem, time_limit_s=LIMIT, seed=1)
    check_plan(problem, plan)
    assert all(r.load[0] <= 5 for r in plan.routes)
    assert len(plan.routes) == 3
    assert sorted(sorted(r.stop_ids) for r in plan.routes) == [["N1", "N2"], ["S1"], ["S2"]]
    assert plan.cost == 4000 + 2000 + 4000


def test_several_load_dimensions_are_all_respected():
    stops = (Stop("N1", demand=(1, 900)), Stop("N2", demand=(1, 900)),
             Stop("S1", demand=(1, 100)), Stop("S2", demand=(1, 100)))
    problem = RoutingProblem(
        depot=Depot("WH"), stops=stops,
        vehicles=(Vehicles(count=3, capacity=(10, 1000)),), travel=euclid(CROSS),
        dimensions=("parcels", "litres"))
    plan = plan_routes(problem, time_limit_s=LIMIT)
    check_plan(problem, plan)
    assert all(r.load[1] <= 1000 for r in plan.routes)
    assert not any({"N1", "N2"} <= set(r.stop_ids) for r in plan.routes)


LINE = {"WH": (0, 0), "A": (1000, 0), "B": (2000, 0)}


def test_time_windows_decide_the_order_and_waiting_is_scheduled():
    # B must be served by 300 s; A not before 1000 s. One truck: B first, then wait at A.
    problem = RoutingProblem(
        depot=Depot("WH", opens_s=0, closes_s=5000),
        stops=(Stop("A", demand=(1,), opens_s=1000, closes_s=4000),
               Stop("B", demand=(1,), service_s=60, opens_s=0, closes_s=300)),
        vehicles=(Vehicles(count=1, capacity=(5,)),), travel=euclid(LINE))
    plan = plan_routes(problem, time_limit_s=LIMIT)
    check_plan(problem, plan)
    (route,) = plan.routes
    assert route.stop_ids == ("B", "A")
    b, a = route.visits
    assert b.start_s <= 300
    assert a.arrival_s <= 1000 and a.start_s == 1000
    assert route.return_s == 1000 + 100


def test_depot_hours_bound_departure_and_return():
    problem = RoutingProblem(
        depot=Depot("WH", opens_s=8 * 3600, closes_s=9 * 3600),
        stops=(Stop("A", demand=(1,), service_s=600), Stop("B", demand=(1,), service_s=600)),
        vehicles=(Vehicles(count=2, capacity=(5,)),), travel=euclid(LINE))
    plan = plan_routes(problem, time_limit_s=LIMIT)
    check_plan(problem, plan)
    assert all(r.departure_s >= 8 * 3600 and r.return_s <= 9 * 3600 for r in plan.routes)


L_SHAPE = {"WH": (0, 0), "E1": (10_000, 0), "E2": (20_000, 0),
           "N1": (0, 10_000), "N2": (0, 20_000)}


def l_problem(max_duration_s=None, capacity=10, count=2):
    return RoutingProblem(
        depot=Depot("WH", closes_s=10**6),
        stops=tuple(Stop(c, demand=(1,)) for c in ["E1", "E2", "N1", "N2"]),
        vehicles=(Vehicles(count=count, capacity=(capacity,), max_duration_s=max_duration_s),),
        travel=euclid(L_SHAPE))


def test_without_duration_limit_one_truck_does_the_whole_loop():
    plan = plan_routes(l_problem(), time_limit_s=LIMIT)
    check_plan(l_problem(), plan)
    assert len(plan.routes) == 1  # 10+10+28.3+10+10 km beats two 40 km out-and-backs


def test_maximum_route_duration_is_respected():
    # The single loop takes 6,828 s at 10 m/s; allow 5,000 s so it must split in two.
    problem = l_problem(max_duration_s=5000)
    plan = plan_routes(problem, time_limit_s=LIMIT)
    check_plan(problem, plan)
    assert len(plan.routes) == 2
    assert all(r.duration_s <= 5000 for r in plan.routes)
    assert plan.cost == 80_000


def test_two_parallel_searches_return_a_checked_plan():
    problem = cross_problem()
    plan = plan_routes(problem, time_limit_s=0.5, workers=2)
    assert plan.runs == 2
    assert check_plan(problem, plan) == 8000


def test_same_seed_gives_same_plan():
    problem = l_problem(max_duration_s=5000)
    first = plan_routes(problem, time_limit_s=LIMIT, seed=7)
    second = plan_routes(problem, time_limit_s=LIMIT, seed=7)
    assert [r.stop_ids for r in first.routes] == [r.stop_ids for r in second.routes]


def test_no_stops_gives_an_empty_plan_without_solving():
    problem = dataclasses.replace(cross_problem(), stops=())
    plan = plan_routes(problem, time_limit_s=LIMIT)
    assert plan.routes == () and plan.cost == 0


def test_matrix_can_hold_more_places_than_the_days_stops():
    problem = dataclasses.replace(cross_problem(), stops=(Stop("N2", demand=(1,)),))
    plan = plan_routes(problem, time_limit_s=LIMIT)
    assert plan.cost == 4000 and check_plan(problem, plan) == 4000


# --- Bad problems are refused before solving -------------------------------------------


def refused(problem) -> DomainError:
    with pytest.raises(DomainError) as e:
        plan_routes(problem, time_limit_s=LIMIT)
    return e.value


def test_no_vehicles_is_refused():
    e = refused(dataclasses.replace(cross_problem(), vehicles=()))
    assert e.code == "no_vehicles" and "no vehicles" in str(e)
    e = refused(cross_problem(count=0))
    assert e.code == "no_vehicles"


def test_zero_capacity_is_refused():
    e = refused(cross_problem(capacity=0))
    assert e.code == "zero_capacity" and "zero capacity" in str(e)


def test_stop_heavier_than_every_vehicle_is_refused_naming_it():
    e = refused(cross_problem(demand=(1, 1, 9, 1), capacity=5, count=4))
    assert e.code == "stop_over_capacity"
    assert "S1" in str(e) and "9 parcels" in str(e) and "5 parcels" in str(e)


def test_total_demand_above_fleet_capacity_says_by_how_much():
    e = refused(cross_problem(demand=(2, 2, 2, 2), capacity=2, count=3))
    assert e.code == "fleet_over_capacity"
    assert "need 8 parcels" in str(e) and "at most 6" in str(e) and "2 parcels too many" in str(e)


def test_stop_closing_before_opening_is_refused():
    problem = dataclasses.replace(
        cross_problem(), stops=(Stop("N1", demand=(1,), opens_s=5000, closes_s=4000),))
    e = refused(problem)
    assert e.code == "impossible_time_window" and "N1" in str(e)


def test_stop_unreachable_before_it_closes_is_refused():
    problem = RoutingProblem(
        depot=Depot("WH", opens_s=8 * 3600, closes_s=18 * 3600),
        stops=(Stop("B", demand=(1,), closes_s=8 * 3600 + 100),),  # 200 s away
        vehicles=(Vehicles(count=1, capacity=(5,)),), travel=euclid(LINE))
    e = refused(problem)
    assert e.code == "impossible_time_window"
    assert "08:01" in str(e) and "08:03" in str(e)


def test_stop_that_cannot_be_served_before_the_depot_closes_is_refused():
    problem = RoutingProblem(
        depot=Depot("WH", opens_s=0, closes_s=3600),
        stops=(Stop("B", demand=(1,), opens_s=3500, service_s=600),),
        vehicles=(Vehicles(count=1, capacity=(5,)),), travel=euclid(LINE))
    assert refused(problem).code == "impossible_time_window"


def test_stop_too_far_for_the_maximum_route_duration_is_refused():
    e = refused(l_problem(max_duration_s=3000))  # E2/N2 need 4,000 s there and back
    assert e.code == "stop_too_far" and "67 minutes" in str(e)


def test_depot_closing_before_opening_is_a_field_error():
    problem = dataclasses.replace(cross_problem(), depot=Depot("WH", opens_s=10, closes_s=5))
    with pytest.raises(ValidationError) as e:
        plan_routes(problem, time_limit_s=LIMIT)
    assert "depot" in e.value.message_dict


def test_mismatched_dimensions_and_duplicates_are_field_errors():
    bad_capacity = cross_problem(capacity=5)
    bad_capacity = dataclasses.replace(
        bad_capacity, vehicles=(Vehicles(count=1, capacity=(5, 5)),))
    with pytest.raises(ValidationError):
        validate_problem(bad_capacity)
    twice = dataclasses.replace(
        cross_problem(), stops=(Stop("N1", demand=(1,)), Stop("N1", demand=(1,))))
    with pytest.raises(ValidationError):
        validate_problem(twice)


def test_stop_missing_from_the_matrix_is_refused():
    problem = dataclasses.replace(cross_problem(), stops=(Stop("X9", demand=(1,)),))
    e = refused(problem)
    assert "X9" in str(e)


def test_non_positive_time_limit_is_refused():
    with pytest.raises(ValidationError):
        plan_routes(cross_problem(), time_limit_s=0)


TWO_WAYS = {"WH": (0, 0), "E": (1000, 0), "W": (-1000, 0)}


def clash_problem(allow_unassigned=False):
    # Both stations take the truck only at 100-110 s, in opposite directions; one truck.
    return RoutingProblem(
        depot=Depot("WH", closes_s=10_000),
        stops=(Stop("E", demand=(1,), opens_s=100, closes_s=110),
               Stop("W", demand=(1,), opens_s=100, closes_s=110)),
        vehicles=(Vehicles(count=1, capacity=(5,)),), travel=euclid(TWO_WAYS),
        allow_unassigned=allow_unassigned)


def test_no_feasible_plan_is_reported_clearly():
    with pytest.raises(NoFeasiblePlan) as e:
        plan_routes(clash_problem(), time_limit_s=LIMIT)
    assert e.value.code == "no_feasible_plan"
    assert "No plan meets every constraint" in str(e.value)
    assert "hours" in str(e.value)


def test_allow_unassigned_leaves_out_the_stop_no_vehicle_can_serve():
    problem = clash_problem(allow_unassigned=True)
    plan = plan_routes(problem, time_limit_s=LIMIT)
    check_plan(problem, plan)
    assert len(plan.unassigned) == 1
    assert len(plan.routes) == 1 and len(plan.routes[0].visits) == 1


def test_allow_unassigned_still_serves_every_stop_it_can():
    problem = dataclasses.replace(cross_problem(), allow_unassigned=True)
    plan = plan_routes(problem, time_limit_s=LIMIT)
    assert plan.unassigned == () and plan.cost == 8000


# --- The independent check ------------------------------------------------------------


@pytest.fixture
def solved():
    problem = cross_problem(count=3, capacity=2)
    return problem, plan_routes(problem, time_limit_s=LIMIT)


def test_check_plan_accepts_a_plan_built_from_sequences(solved):
    problem, _ = solved
    plan = plan_from_sequences(problem, [["N1", "N2"], ["S2", "S1"]])
    assert check_plan(problem, plan) == 8000


def break_route(plan, index=0, **changes):
    routes = list(plan.routes)
    routes[index] = dataclasses.replace(routes[index], **changes)
    return dataclasses.replace(plan, routes=tuple(routes))


@pytest.mark.parametrize(
    "sequences, words",
    [
        ([["N1", "N2"], ["S1", "S2"], ["N1"]], "more than once"),
        ([["N1", "N2"], ["S1"]], "neither routed nor unassigned"),
        ([["N1", "N2", "S1"], ["S2"]], "beyond"),  # 3 parcels on a 2-parcel truck
        ([["N1"], ["N2"], ["S1"], ["S2"]], "only 3 such vehicles"),
        ([["N1", "N2"], ["S1", "X"]], "unknown stop"),
    ],
)
def test_check_plan_catches_a_broken_plan(sequences, words):
    problem = cross_problem(count=3, capacity=2)
    stops = dict.fromkeys(s.id for s in problem.stops)
    known = [[s for s in seq if s in stops] for seq in sequences]
    plan = dataclasses.replace(plan_from_sequences(problem, known), unassigned=())
    if any("X" in seq for seq in sequences):  # a stop the problem does not have
        bad = dataclasses.replace(plan.routes[1].visits[0], stop_id="X")
        plan = break_route(plan, 1, visits=(*plan.routes[1].visits, bad))
    with pytest.raises(PlanError, match=words):
        check_plan(problem, plan)


def test_check_plan_catches_a_misreported_cost(solved):
    problem, plan = solved
    with pytest.raises(PlanError, match="recomputed"):
        check_plan(problem, dataclasses.replace(plan, cost=plan.cost - 1))


def test_check_plan_catches_a_misreported_route_distance_or_load(solved):
    problem, plan = solved
    route = plan.routes[0]
    with pytest.raises(PlanError, match="recomputed"):
        check_plan(problem, break_route(plan, distance_m=route.distance_m + 1))
    with pytest.raises(PlanError, match="load"):
        check_plan(problem, break_route(plan, load=(0,)))


def test_check_plan_catches_a_missed_time_window():
    problem = RoutingProblem(
        depot=Depot("WH", opens_s=0, closes_s=5000),
        stops=(Stop("A", demand=(1,), opens_s=1000, closes_s=4000),
               Stop("B", demand=(1,), service_s=60, closes_s=300)),
        vehicles=(Vehicles(count=1, capacity=(5,)),), travel=euclid(LINE))
    late = plan_from_sequences(problem, [["A", "B"]])  # B reached at 1,100 s
    with pytest.raises(PlanError, match="after it closes"):
        check_plan(problem, late)


def test_check_plan_catches_an_overlong_route():
    problem = l_problem(max_duration_s=5000)
    loop = plan_from_sequences(problem, [["E1", "E2", "N2", "N1"]])
    with pytest.raises(PlanError, match="maximum duration"):
        check_plan(problem, loop)


def test_check_plan_catches_unassigned_stops_when_not_allowed(solved):
    problem, _ = solved
    with pytest.raises(PlanError, match="left unassigned"):
        check_plan(problem, plan_from_sequences(problem, [["N1", "N2"], ["S1"]]))


def test_check_plan_catches_wrong_arrival_times(solved):
    problem, plan = solved
    visit = plan.routes[0].visits[0]
    moved = dataclasses.replace(visit, arrival_s=visit.arrival_s + 1)
    with pytest.raises(PlanError, match="arrival"):
        check_plan(problem, break_route(plan, visits=(moved, *plan.routes[0].visits[1:])))


def test_fractional_demand_is_a_field_error():
    problem = dataclasses.replace(cross_problem(), stops=(Stop("N1", demand=(1.5,)),))
    with pytest.raises(ValidationError) as e:
        validate_problem(problem)
    assert "whole" in e.value.message_dict["stops"][0]


def test_single_dimension_accepts_plain_numbers():
    assert Stop("N1", demand=3).demand == (3,)
    assert Vehicles(count=1, capacity=9).capacity == (9,)
