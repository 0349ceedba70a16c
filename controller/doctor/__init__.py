"""``v2xctl doctor``: check the installation and the wiring before anything is energised.

One small module per check group; :func:`run_doctor` runs them all (docs/doctor.md lists every
check and its hints). The simulator's training faults (``--sim-fault``) live with the
simulator, in ``simulation/training_faults.py``; the CLI hands them in as ``prepare``.
"""

from controller.doctor.report import Check, Outcome, Report
from controller.doctor.runner import Prepare, run_doctor

__all__ = ["Check", "Outcome", "Prepare", "Report", "run_doctor"]
