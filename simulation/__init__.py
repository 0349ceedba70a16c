"""The simulator as a product: what runs the controller against the simulated charger and judges
it, above both ``controller`` and ``hal``.

``scenarios/`` (the scenario format, its runner and its report), ``invariants.py`` (the seven
safety invariants checked on plant truth), ``fault_injection.py`` (named plant faults for every
interlock monitor) and ``training_faults.py`` (the doctor's ``--sim-fault`` training faults).
The simulated charger itself, the ``sim`` HAL backend, stays in ``hal/sim/``
(docs/architecture.md, section 4).
"""
