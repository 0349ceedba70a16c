"""``v2xctl doctor``: check the installation and the wiring before anything is energised.

One small module per check group; :func:`run_doctor` runs them all (docs/doctor.md lists every
check and its hints).
"""

from controller.doctor.report import Check, Outcome, Report
from controller.doctor.runner import run_doctor
from controller.doctor.sim_faults import SIM_FAULTS, prepare_faults

__all__ = ["SIM_FAULTS", "Check", "Outcome", "Report", "prepare_faults", "run_doctor"]
