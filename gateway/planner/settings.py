"""The gateway config's ``[planner]`` section: whether the gateway runs the planner, and where
its own file is.

The planner's inputs (tariff periods, departures per weekday, the wear model) are nested tables
that the gateway's flat sections cannot hold, so they stay in the planner's own strictly loaded
TOML (docs/planner.md); this section names it. When ``enabled``, the file is loaded at once, so
``v2x-gateway --check`` reports its problems with the rest of the config.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hal.config_fields import setting

HOUR_S = 3600.0


class PlannerSettingsError(ValueError):
    """The section cannot be used; ``problems`` names each key and rule."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PlannerSection:
    enabled: bool = setting(False, "run the home energy planner (it claims as `schedule`)")
    config_file: str = setting("", "the planner's own TOML: tariff, PV, load, departures, "
                               "wear (docs/planner.md); relative to the working directory")
    poll_s: float = setting(5.0, "how often the planner wakes to learn, re-plan when due and "
                            "claim the current step", unit="s", min=1.0, max=300.0)
    manual_hold_h: float = setting(
        12.0, "a manual mode or limit from Home Assistant suspends the planner's claims for "
        "this long, then the planner takes over again (0: until the owner chooses auto)",
        unit="h", min=0.0, max=168.0)

    def __post_init__(self) -> None:
        if not self.enabled:
            return
        if not self.config_file:
            raise PlannerSettingsError(["planner.config_file: required when planner.enabled "
                                        "(the planner's own TOML, docs/planner.md)"])
        from gateway.planner import config as planner_config  # the planner's strict loader
        from gateway.planner.model import PlannerInputError

        try:
            planner_config.load(Path(self.config_file))
        except PlannerInputError as err:
            raise PlannerSettingsError([f"planner.config_file: {err}"]) from None

    @property
    def manual_hold_s(self) -> float | None:
        """The hold in seconds (None: until released)."""
        return self.manual_hold_h * HOUR_S if self.manual_hold_h > 0 else None
