"""Simulated crashes: stop a run at its n-th file-system step, as if the process had died there."""

import os
import pathlib

__all__ = ["Crash", "StepCounter"]


class Crash(Exception):
    """Stands in for the process dying at a file-system step."""


class StepCounter:
    """Count renames and deletions while patched in, raising :class:`Crash` at step ``crash_at``.

    Parameters
    ----------
    monkeypatch : pytest.MonkeyPatch
        Where to install the patches (use ``monkeypatch.context()`` to scope them).
    crash_at : int, optional
        The step (from 0) that crashes instead of happening; None never crashes.
    """

    def __init__(self, monkeypatch, crash_at=None):
        self.steps = 0
        self.crash_at = crash_at
        for owner, name in ((os, "replace"), (pathlib.Path, "unlink")):
            monkeypatch.setattr(owner, name, self._wrap(getattr(owner, name)))

    def _wrap(self, original):
        def step(*args, **kwargs):
            if self.steps == self.crash_at:
                raise Crash(f"crash at step {self.steps}")
            self.steps += 1
            return original(*args, **kwargs)

        return step
