"""The plan as the owner reads it: a table, the totals, the savings, and an optional plot."""

from __future__ import annotations

from pathlib import Path

from gateway.planner.baselines import charge_on_arrival
from gateway.planner.model import Plan, Problem
from gateway.planner.optimiser import terminal_value


def net_cost(plan: Plan, problem: Problem) -> float:
    """Energy + wear - the value of what is left in the battery at the end (so plans that end
    at different SoCs compare fairly)."""
    left_kwh = problem.battery.kwh(plan.steps[-1].soc_pct)
    return plan.energy_cost + plan.wear_cost - terminal_value(problem) * left_kwh


def savings(plan: Plan, problem: Problem) -> float:
    """Money the plan saves against charging on arrival over the same horizon."""
    return net_cost(charge_on_arrival(problem), problem) - net_cost(plan, problem)


def table(plan: Plan, problem: Problem, every: int = 1) -> str:
    lines = [f"{'time':<11} {'mode':<6} {'power kW':>8} {'SoC %':>6} {'grid kW':>8} "
             f"{'price':>7} {'cost':>7} {'wear':>6}"]
    for s in plan.steps[::every]:
        lines.append(f"{s.t:%a %H:%M}  {s.mode:<6} {s.ev_kw:8.2f} {s.soc_pct:6.1f} "
                     f"{s.grid_kw:8.2f} {s.import_price:7.3f} {s.cost:7.3f} {s.wear_cost:6.3f}")
    lines.append("")
    lines.append(f"energy cost {plan.energy_cost:.2f}, wear cost {plan.wear_cost:.2f}, "
                 f"savings against charging on arrival {savings(plan, problem):.2f} "
                 f"(solved in {plan.solve_s * 1000:.0f} ms)")
    lines.extend(f"note: {note}" for note in plan.notes)
    return "\n".join(lines)


def plot(plan: Plan, path: Path) -> None:
    """Draw the plan to ``path`` (needs the ``plot`` extra: pip install 'v2x-controller[plot]')."""
    try:
        import matplotlib
    except ImportError as err:
        raise RuntimeError("--plot needs matplotlib: pip install 'v2x-controller[plot]'") from err
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s.t for s in plan.steps]
    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, sharex=True, figsize=(10, 7))
    ax1.step(t, [s.import_price for s in plan.steps], where="post", label="import price")
    ax1.step(t, [s.export_price for s in plan.steps], where="post", label="export price")
    ax1.set_ylabel("price / kWh")
    ax1.legend(loc="upper right")
    ax2.step(t, [s.ev_kw for s in plan.steps], where="post", label="EV (+ charge)")
    ax2.step(t, [s.grid_kw for s in plan.steps], where="post", label="grid (+ import)")
    ax2.set_ylabel("kW")
    ax2.legend(loc="upper right")
    ax3.plot(t, [s.soc_pct for s in plan.steps], label="SoC")
    ax3.set_ylabel("SoC %")
    ax3.set_ylim(0, 100)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
