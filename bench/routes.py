"""Route planning against CVRPLIB best known costs: cuntao's planner and OR-Tools.

Reads the instances from the shared data folder (never copied into the repo):
../shared/data/cvrplib beside the repository, or $CUNTAO_CVRPLIB_DIR, or --data. Each
CVRP instance becomes the same RoutingProblem the county page builds and is planned by
the same `plan_routes`, with each time limit (default 5 s and 20 s); OR-Tools' routing
solver with guided local search runs under the same limits as the alternative. Every
result is checked by `check_plan`, and its cost recomputed from the coordinates by the
instance's own rule (Euclidean, rounded to the nearest integer). eil51 (a TSP: one
motorbike, 50 stops) is planned once with a short limit.

The fleet (--fleet) stands for a county's real trucks. Default "spare": the fewest
trucks that can carry the load (the k in the instance name) plus one spare, which is
the standard CVRP the best known costs answer (they never need more). "sol": exactly
the routes of the best known plan, which on a tight instance (X-n256-k16 fills its 16
trucks to 99.6 %) is a much harder problem than the one the best known cost solves.

Prints one JSON line per (instance, solver, limit):
{"bench": "routes", "instance", "solver": "cuntao"|"ortools", "limit_s", "seconds",
 "cost", "bks", "gap_pct"}
then {"bench": "routes", "summary": "mean_gap", "solver", "limit_s", "mean_gap_pct",
"instances"} per solver and limit.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cvrplib"
CVRP_INSTANCES = ("A-n80-k10", "X-n101-k25", "X-n157-k13", "X-n256-k16", "X-n303-k21")
KNOWN_OPTIMA = {"A-n80-k10": 1763, "eil51": 426}  # from the files' comments and README


@dataclass
class Instance:
    name: str
    kind: str  # "CVRP" or "TSP"
    coords: list[tuple[float, float]]  # node 1 (index 0) is the depot
    demands: list[int]
    capacity: int
    bks: int
    k: int  # the fewest vehicles, from the instance name
    sol_routes: list[list[int]] | None  # node indices (0-based) of the .sol, if any

    def dist(self, a: int, b: int) -> int:
        (xa, ya), (xb, yb) = self.coords[a], self.coords[b]
        return int(math.sqrt((xa - xb) ** 2 + (ya - yb) ** 2) + 0.5)  # TSPLIB nint

    def route_cost(self, routes: list[list[int]]) -> int:
        """Cost by the instance's own rule, from the coordinates (0 = depot)."""
        total = 0
        for r in routes:
            path = [0, *r, 0]
            total += sum(self.dist(a, b) for a, b in itertools.pairwise(path))
        return total


def read_tsplib(path: Path) -> tuple[dict, dict[str, list[list[str]]]]:
    header, sections, current = {}, {}, None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if ":" in line and not line[0].isdigit() and not line.startswith("-"):
            key, value = line.split(":", 1)
            header[key.strip().upper()] = value.strip().strip('"')
            current = None
        elif line.upper().endswith("_SECTION"):
            current = line.upper()
            sections[current] = []
        elif current:
            sections[current].append(line.split())
    return header, sections


def read_sol(path: Path) -> tuple[list[list[int]], int]:
    routes, cost = [], None
    for line in path.read_text().splitlines():
        if line.lower().startswith("route"):
            # CVRPLIB .sol numbers customers from 1; node 1 is the depot, so +0 here
            # gives 0-based node indices with the depot at 0.
            routes.append([int(x) for x in line.split(":", 1)[1].split()])
        elif line.lower().startswith("cost"):
            cost = int(float(line.split()[1]))
    return routes, cost


def load(data: Path, name: str) -> Instance:
    suffix = ".tsp" if (data / f"{name}.tsp").exists() else ".vrp"
    header, sections = read_tsplib(data / f"{name}{suffix}")
    if header.get("EDGE_WEIGHT_TYPE") != "EUC_2D":
        raise SystemExit(f"{name}: only EUC_2D instances are supported")
    n = int(header["DIMENSION"])
    coords = [(0.0, 0.0)] * n
    for node, x, y in sections["NODE_COORD_SECTION"]:
        coords[int(node) - 1] = (float(x), float(y))
    kind = header["TYPE"].split()[0].upper()
    if kind == "TSP":
        demands, capacity, depot = [0] + [1] * (n - 1), n - 1, 1
    else:
        demands = [0] * n
        for node, d in sections["DEMAND_SECTION"]:
            demands[int(node) - 1] = int(d)
        capacity = int(header["CAPACITY"])
        depots = [int(r[0]) for r in sections["DEPOT_SECTION"] if int(r[0]) != -1]
        depot = depots[0]
    if depot != 1:
        raise SystemExit(f"{name}: the depot must be node 1")
    sol_routes, bks = None, None
    sol = data / f"{name}.sol"
    if sol.exists():
        sol_routes, bks = read_sol(sol)
    if bks is None:
        found = re.search(r"(?:optimal value|optimum)\D*(\d+)", header.get("COMMENT", ""), re.IGNORECASE)
        bks = int(found.group(1)) if found else KNOWN_OPTIMA[name]
    if kind == "TSP":
        k = 1
    else:
        k = max(int(re.search(r"-k(\d+)", name).group(1)), math.ceil(sum(demands) / capacity))
    return Instance(name, kind, coords, demands, capacity, bks, k, sol_routes)


def fleet_size(inst: Instance, rule: str) -> int:
    if inst.kind == "TSP":
        return 1
    if rule == "sol" and inst.sol_routes:
        return len(inst.sol_routes)
    return inst.k + (1 if rule == "spare" else 0)


def to_problem(inst: Instance, fleet: int):
    from cuntao.logistics.distances import TravelMatrix
    from cuntao.logistics.routing import Depot, RoutingProblem, Stop, Vehicles

    n = len(inst.coords)
    codes = tuple(str(i + 1) for i in range(n))  # the instance's own node numbers
    rows = tuple(tuple(inst.dist(a, b) for b in range(n)) for a in range(n))
    travel = TravelMatrix(codes=codes, metres=rows, seconds=rows)
    return RoutingProblem(
        depot=Depot(codes[0], opens_s=0, closes_s=None),  # CVRPLIB has no hours
        stops=tuple(Stop(codes[i], demand=(inst.demands[i],)) for i in range(1, n)),
        vehicles=(Vehicles(count=fleet, capacity=(inst.capacity,),
                           name="motorbike" if inst.kind == "TSP" else "truck"),),
        travel=travel,
    )


def plan_to_nodes(plan) -> list[list[int]]:
    return [[int(v.stop_id) - 1 for v in r.visits] for r in plan.routes]


def run_cuntao(inst: Instance, problem, limit: float, seed: int, workers: int):
    from cuntao.logistics.routing import check_plan, plan_routes

    started = time.perf_counter()
    plan = plan_routes(problem, time_limit_s=limit, seed=seed, workers=workers)
    seconds = time.perf_counter() - started
    checked = check_plan(problem, plan)
    return plan, seconds, checked


def run_ortools(inst: Instance, problem, limit: float, fleet: int):
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    from cuntao.logistics.routing import check_plan, plan_from_sequences

    started = time.perf_counter()
    n = len(inst.coords)
    manager = pywrapcp.RoutingIndexManager(n, fleet, 0)
    routing = pywrapcp.RoutingModel(manager)
    matrix = [[inst.dist(a, b) for b in range(n)] for a in range(n)]

    def distance(i, j):
        return matrix[manager.IndexToNode(i)][manager.IndexToNode(j)]

    transit = routing.RegisterTransitCallback(distance)
    routing.SetArcCostEvaluatorOfAllVehicles(transit)

    def demand(i):
        return inst.demands[manager.IndexToNode(i)]

    demand_cb = routing.RegisterUnaryTransitCallback(demand)
    routing.AddDimensionWithVehicleCapacity(demand_cb, 0, [inst.capacity] * fleet,
                                            True, "load")
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
    # The limit covers the whole call, model building included, as for cuntao.
    remaining = max(limit - (time.perf_counter() - started), 0.1)
    params.time_limit.FromMilliseconds(int(remaining * 1000))
    solution = routing.SolveWithParameters(params)
    seconds = time.perf_counter() - started
    if solution is None:
        return None, seconds, None
    sequences = []
    for v in range(fleet):
        index, seq = routing.Start(v), []
        index = solution.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            seq.append(str(manager.IndexToNode(index) + 1))
            index = solution.Value(routing.NextVar(index))
        if seq:
            sequences.append(seq)
    plan = plan_from_sequences(problem, sequences)
    checked = check_plan(problem, plan)
    return plan, seconds, checked


def line(**fields) -> None:
    print(json.dumps({"bench": "routes", **fields}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("CUNTAO_CVRPLIB_DIR", DEFAULT_DATA)))
    parser.add_argument("--limits", type=float, nargs="+", default=[5.0, 20.0])
    parser.add_argument("--instances", nargs="+", default=list(CVRP_INSTANCES))
    parser.add_argument("--solvers", nargs="+", default=["cuntao", "ortools"],
                        choices=["cuntao", "ortools"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1,
                        help="parallel PyVRP searches for cuntao, best kept (default 1)")
    parser.add_argument("--tsp-limit", type=float, default=0.45)
    parser.add_argument("--fleet", choices=["spare", "sol", "name"], default="spare",
                        help="trucks per instance: k+1 (default), the .sol's routes, or k")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cuntao.settings")
    os.environ.setdefault("CUNTAO_SECRET_KEY", "bench-only")
    import django

    django.setup()
    from cuntao.logistics.routing import warm_up

    if not args.data.is_dir():
        raise SystemExit(f"no instance folder at {args.data} (use --data or CUNTAO_CVRPLIB_DIR)")
    warm_up(args.workers)  # start helper processes outside the timed runs

    gaps: dict[tuple[str, float], list[float | None]] = {}
    for name in args.instances:
        inst = load(args.data, name)
        fleet = fleet_size(inst, args.fleet)
        problem = to_problem(inst, fleet)
        if inst.sol_routes is not None:  # the cost rule must reproduce the known cost
            assert inst.route_cost(inst.sol_routes) == inst.bks, (name, "cost rule")
        for limit in args.limits:
            for solver in args.solvers:
                if solver == "cuntao":
                    plan, seconds, checked = run_cuntao(inst, problem, limit, args.seed,
                                                        args.workers)
                else:
                    plan, seconds, checked = run_ortools(inst, problem, limit, fleet)
                cost = gap = None
                if plan is not None:
                    cost = inst.route_cost(plan_to_nodes(plan))
                    assert cost == checked == plan.cost, (name, solver, cost, checked)
                    gap = round(100 * (cost - inst.bks) / inst.bks, 3)
                gaps.setdefault((solver, limit), []).append(gap)
                line(instance=name, solver=solver, limit_s=limit, seconds=round(seconds, 3),
                     cost=cost, bks=inst.bks, gap_pct=gap, vehicles=fleet,
                     routes=len(plan.routes) if plan else None)

    tsp = load(args.data, "eil51")
    problem = to_problem(tsp, 1)
    plan, seconds, checked = run_cuntao(tsp, problem, args.tsp_limit, args.seed, 1)
    cost = tsp.route_cost(plan_to_nodes(plan))
    assert cost == checked
    line(instance="eil51", solver="cuntao", limit_s=args.tsp_limit, seconds=round(seconds, 3),
         cost=cost, bks=tsp.bks, gap_pct=round(100 * (cost - tsp.bks) / tsp.bks, 3),
         vehicles=1, routes=len(plan.routes))

    for (solver, limit), values in sorted(gaps.items()):
        found = [v for v in values if v is not None]
        line(summary="mean_gap", solver=solver, limit_s=limit,
             mean_gap_pct=round(sum(found) / len(found), 3) if found else None,
             instances=len(found), no_solution=len(values) - len(found), fleet=args.fleet,
             workers=args.workers if solver == "cuntao" else 1)


if __name__ == "__main__":
    main()
