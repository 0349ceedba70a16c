#!/usr/bin/env bash
# Issue 20, fifth pass (docs/performance.md): the realistic day with the code compiled by mypyc.
# An experiment, not part of the test suite or `./dev bench` (the build alone takes minutes).
#
#   bench/mypyc_trial.sh [production|all]    # default: all
#
# Copies the committed tree (git archive HEAD) to a temporary directory and compiles there,
# with the worktree's .venv/bin/mypyc (run ./dev once first), either the production tick's
# modules ("production") or those and the simulator ("all"); then runs the day in that copy
# (bench/scenario_speed.py day; with "production" also bench/day_split.py, whose timers cannot
# wrap compiled simulator classes), prints the figures and the build time, and deletes the copy.
# Nothing is built in the worktree. The build uses the copy's pyproject.toml as mypy's config
# file under another name: setuptools in .venv rejects the project's `license` string when it
# finds a pyproject.toml in the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${V2X_VENV:-$ROOT/.venv}
WHAT=${1:-all}

die() { echo "mypyc_trial: $*" >&2; exit 2; }

[ -x "$VENV/bin/mypyc" ] || die "no $VENV/bin/mypyc: run ./dev lint once to create .venv"
case "$WHAT" in
    production|all) ;;
    *) die "unknown argument '$WHAT' (production or all)" ;;
esac

# The production tick: its stages, dispatch, links, EV session, values, protection's
# monitors, estimators, drivers, codecs and the I2C/CAN/GPIO glue. Left out, each for what
# mypyc or the run said (docs/performance.md, fifth pass):
# - hal/errors.py, controller/protection/protection.py: exception classes built on a builtin
#   error other than Exception - "Inheriting from most builtin types is unimplemented";
# - controller/modes/guards.py: mypyc crashes on `x in (*GRID_PARALLEL_MODES, "v2l")`;
#   with it, its base classes (modes/base.py, modes/guards_stop.py: an interpreted class
#   cannot inherit from a compiled one) and the classes above it (modes/callbacks.py,
#   modes/machine.py, the transitions model);
# - hal/i2c_reader.py: its attribute `_thread` becomes the C field `__thread`, a gcc keyword;
# - controller/values/context.py: its dataclass names ProtectionResult (protection.py, not
#   compiled) under TYPE_CHECKING only: KeyError at import;
# - hal/backend_io.py when the simulator is not compiled (SimIo inherits from it);
# - the setup-time packages (config, store, cli, console, control socket, doctor).
production_modules() {
    find controller/dispatch controller/ev controller/links controller/measurement \
        controller/modes controller/protection controller/supervisor controller/values \
        hal/drivers hal/protocols -name '*.py' \
        ! -path controller/protection/protection.py ! -path controller/modes/guards.py \
        ! -path controller/modes/guards_stop.py ! -path controller/modes/base.py \
        ! -path controller/modes/callbacks.py ! -path controller/modes/machine.py \
        ! -path controller/values/context.py
    printf '%s\n' controller/faults.py controller/vocabulary.py hal/analog_inputs.py \
        hal/can_link.py hal/gpio_devices.py hal/i2c.py
}

# The simulator: the plant, chip models, simulated buses, the scenario runner and checkers,
# and hal/backend_io.py (SimIo's base). Left out: simulation/scenarios/spec.py
# (ScenarioError has two bases, V2xError and ValueError) and simulation/scenarios/params.py
# (a dataclass field annotated `object`: KeyError 'object' at import) and hal/sim/plant_pins.py
# (PlantPin, a subclass of gpiozero's MockPin: the first pin made segfaults).
simulator_modules() {
    find hal/sim simulation -name '*.py' ! -path simulation/scenarios/spec.py \
        ! -path simulation/scenarios/params.py ! -path hal/sim/plant_pins.py
    echo hal/backend_io.py
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/v2x-mypyc.XXXXXX")
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT

git archive HEAD | tar -x -C "$TMP"
cd "$TMP"
modules=()
while IFS= read -r m; do modules+=("$m"); done < <(
    production_modules
    if [ "$WHAT" = all ]; then simulator_modules; fi
)
echo "== compiling ${#modules[@]} modules ($WHAT) with mypyc in $TMP"
t0=$(date +%s)
mv pyproject.toml mypy-config.toml
timer=()  # GNU time, when present, for the build's peak memory (its largest process: gcc)
if [ -x /usr/bin/time ]; then timer=(/usr/bin/time -o peak.txt -f '%M'); fi
"${timer[@]}" "$VENV/bin/mypyc" --config-file mypy-config.toml "${modules[@]}" > build.log 2>&1 \
    || { tail -40 build.log; die "mypyc failed"; }
peak=""
if [ -f peak.txt ]; then peak=", peak $(( $(tail -1 peak.txt) / 1024 )) MiB"; fi
echo "build: $(( $(date +%s) - t0 )) s wall$peak, $(du -ch build/*.c | tail -1 | cut -f1) of C," \
    "$(find . -name '*.so' | wc -l) extension files"

# The copy comes first on the path, before the editable install's finder (the worktree).
export PYTHONPATH=$TMP
echo "== the day, compiled ($WHAT)"
"$VENV/bin/python" bench/scenario_speed.py day
if [ "$WHAT" = production ]; then
    echo "== the day's split, production tick compiled"
    "$VENV/bin/python" bench/day_split.py
fi
