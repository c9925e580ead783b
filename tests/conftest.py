"""Hypothesis profiles for the whole suite.

``ci``: deterministic (the same examples on every run, so a red build can be
reproduced), hundreds of examples per property, no per-example deadline (a
shared CI machine is slow at random moments). ``dev``: random examples on every
run and more of them, to keep finding new cases.

``ci`` is chosen when the environment variable ``CI`` is set (as CI services
do), ``dev`` otherwise; ``HYPOTHESIS_PROFILE=ci`` or ``=dev`` overrides both.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=300,
    deadline=None,
    print_blob=True,
)
settings.register_profile(
    "dev",
    max_examples=600,
    deadline=None,
    print_blob=True,
)


def _profile() -> str:
    chosen = os.environ.get("HYPOTHESIS_PROFILE")
    if chosen:
        return chosen
    ci = os.environ.get("CI", "").strip().lower()
    return "ci" if ci not in ("", "0", "false", "no") else "dev"


settings.load_profile(_profile())
