"""The planner on a real benchmark instance read from the shared data folder."""

from bench.routes import DEFAULT_DATA, fleet_size, load, plan_to_nodes, to_problem
from cuntao.logistics.routing import check_plan, plan_routes


def test_a_n80_k10_plan_is_feasible_and_costed_by_the_instance_rule():
    inst = load(DEFAULT_DATA, "A-n80-k10")
    assert (inst.k, inst.capacity, inst.bks) == (10, 100, 1763)
    problem = to_problem(inst, fleet_size(inst, "name"))  # exactly the 10 trucks
    plan = plan_routes(problem, time_limit_s=2, seed=1)
    cost = check_plan(problem, plan)  # every stop once, no truck over capacity
    assert len(plan.routes) <= 10
    assert all(r.load[0] <= 100 for r in plan.routes)
    assert sorted(int(v.stop_id) for r in plan.routes for v in r.visits) == list(range(2, 81))
    assert inst.route_cost(plan_to_nodes(plan)) == cost == plan.cost


def test_benchmark_cost_rule_reproduces_a_known_solution_cost():
    inst = load(DEFAULT_DATA, "X-n101-k25")
    assert inst.route_cost(inst.sol_routes) == inst.bks == 27591
