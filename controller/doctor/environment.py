"""Python and the installed dependencies, against the package's own declared requirements.

The requirements come from the installed distribution's metadata (generated from
``pyproject.toml`` at install time), so the doctor checks what was actually declared; without that
metadata (a bare source tree) the doctor falls back to :data:`FALLBACK_REQUIREMENTS`.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata

from controller.doctor.report import Check, failed, passed

DISTRIBUTION = "v2x-controller"
PACKAGES = ("gpiozero", "python-can", "cantools", "smbus2", "numpy", "transitions", "pyserial")
FALLBACK_PYTHON = ">=3.11"
FALLBACK_REQUIREMENTS = {
    "gpiozero": ">=2.0.1.post3", "python-can": ">=4.6,<5", "cantools": ">=40,<46",
    "smbus2": ">=0.6", "numpy": ">=1.24", "transitions": ">=0.9.2,<0.10", "pyserial": ">=3.5",
}
INSTALL_HINT = ("reinstall into the controller's virtual environment: "
                "`pip install --upgrade v2x-controller` (or re-run the installer)")

_VERSION = re.compile(
    r"^\s*v?(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre>a|b|rc|alpha|beta|c)[-_.]?(?P<pre_n>\d*))?"
    r"(?:[-_.]?(?:post|rev|r)[-_.]?(?P<post>\d*))?"
    r"(?:[-_.]?dev[-_.]?(?P<dev>\d*))?", re.IGNORECASE)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2}
_CLAUSE = re.compile(r"^\s*(~=|==|!=|<=|>=|<|>)\s*([^\s,;]+)\s*$")
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;]*)(;.*)?$")

VersionKey = tuple[tuple[int, ...], int, int, int, int]


def version_key(text: str) -> VersionKey:
    """An orderable key for a PEP 440 style version (release, pre, post, dev; no local part)."""
    match = _VERSION.match(text)
    if match is None:
        raise ValueError(f"cannot read version {text!r}")
    release = tuple(int(p) for p in match["release"].split("."))
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    pre = (_PRE_RANK[match["pre"].lower()] if match["pre"] else 3)
    pre_n = int(match["pre_n"] or 0)
    post = int(match["post"] or 0) if match["post"] is not None else -1
    dev = int(match["dev"] or 0) if match["dev"] is not None else 1 << 30
    if match["dev"] is not None and match["pre"] is None and match["post"] is None:
        pre = -1  # 1.0.dev1 sorts before 1.0a1
    return release, pre * 1000 + pre_n, post, dev, 0


def satisfies(version: str, specifier: str) -> bool:
    """True when ``version`` meets every comma-separated clause of ``specifier``."""
    have = version_key(version)
    for clause in filter(None, (c.strip() for c in specifier.split(","))):
        match = _CLAUSE.match(clause)
        if match is None:
            raise ValueError(f"cannot read version clause {clause!r}")
        op, wanted = match.groups()
        want = version_key(wanted)
        ok = {
            ">=": have >= want, ">": have > want, "<=": have <= want, "<": have < want,
            "==": have == want, "!=": have != want,
            "~=": have >= want and have[0][:len(want[0]) - 1] == want[0][:-1],
        }[op]
        if not ok:
            return False
    return True


def declared_requirements() -> tuple[str, dict[str, str]]:
    """``(requires_python, {package: specifier})`` as the installed package declares them."""
    try:
        meta = metadata.metadata(DISTRIBUTION)
        requires = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return FALLBACK_PYTHON, dict(FALLBACK_REQUIREMENTS)
    python = str((meta.get_all("Requires-Python") or [FALLBACK_PYTHON])[0])
    found: dict[str, str] = {}
    for line in requires:
        match = _REQUIREMENT.match(line)
        if match is None or match[3]:  # extras and markers are not hard requirements
            continue
        found[_normalise(match[1])] = match[2].strip()
    return python, found


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def python_check(requires_python: str) -> Check:
    here = ".".join(str(p) for p in sys.version_info[:3])
    if satisfies(here, requires_python):
        return passed("python", f"Python {here} at {sys.executable} (needs {requires_python})")
    return failed("python", f"Python {here} at {sys.executable} does not meet {requires_python}",
                  f"use a Python {requires_python} interpreter (Raspberry Pi OS Bookworm ships "
                  "3.11) and recreate the virtual environment with it")


def package_checks(requirements: dict[str, str]) -> list[Check]:
    checks: list[Check] = []
    for package in PACKAGES:
        name = f"package.{package}"
        wanted = requirements.get(_normalise(package), "")
        try:
            installed = metadata.version(package)
        except metadata.PackageNotFoundError:
            checks.append(failed(name, f"{package} is not installed (needs {wanted or 'any'})",
                                 INSTALL_HINT))
            continue
        try:
            ok = satisfies(installed, wanted)
        except ValueError as err:
            checks.append(failed(name, f"{package} {installed}: {err}", INSTALL_HINT))
            continue
        if ok:
            checks.append(passed(name, f"{package} {installed} (needs {wanted or 'any'})"))
        else:
            checks.append(failed(name, f"{package} {installed} does not meet {wanted}",
                                 INSTALL_HINT))
    return checks


def environment_checks() -> list[Check]:
    requires_python, requirements = declared_requirements()
    return [python_check(requires_python), *package_checks(requirements)]
