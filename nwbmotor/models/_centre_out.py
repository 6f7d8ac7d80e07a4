"""The 8-target centre-out reaching task of the modular network (science.md B).

A trial is ``n_steps`` Euler steps of ``dt`` seconds. The network sees three inputs:
the target's x and y (zero until the target is shown, then held) and a hold signal
that is 1 until the go cue and 0 after it. The output should stay at the centre until
the go cue, then reach the target along a minimum-jerk path and stay there.

Times are defined in seconds on the paper's clock (400 steps of 10 ms: target shown at
step 165 = 1.65 s, go at step 282 = 2.82 s, loss from step 50 = 0.5 s), so a network
run with fewer, longer steps sees the same task at a coarser resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CentreOutTask", "rotate"]

# the paper's clock: 400 steps of 10 ms
PAPER_STEPS = 400
PAPER_DT = 0.010


@dataclass(frozen=True)
class CentreOutTask:
    """Timing and geometry of the centre-out task, on a grid of ``n_steps`` steps.

    Parameters
    ----------
    n_steps : int
        Steps per trial. The trial always lasts ``n_steps * dt`` seconds.
    dt : float
        Step in seconds; by default the paper's 4 s trial is kept
        (``dt = 4.0 / n_steps``).
    n_targets : int
        Targets evenly spaced on a circle, target 0 at 0 rad.
    radius : float
        Reach distance (output units).
    target_time, go_time, loss_start_time : float
        Seconds from trial start: target shown, go cue, first step in the loss.
    reaction_time, reach_duration : float
        Seconds from go to movement onset, and of the minimum-jerk reach.
    """

    n_steps: int = PAPER_STEPS
    dt: float = PAPER_DT
    n_targets: int = 8
    radius: float = 1.0
    target_time: float = 1.65
    go_time: float = 2.82
    loss_start_time: float = 0.50
    reaction_time: float = 0.10
    reach_duration: float = 0.50

    @property
    def target_step(self) -> int:
        return int(round(self.target_time / self.dt))

    @property
    def go_step(self) -> int:
        return int(round(self.go_time / self.dt))

    @property
    def loss_start(self) -> int:
        return int(round(self.loss_start_time / self.dt))

    @property
    def angles(self) -> np.ndarray:
        """Target angles in radians, ndarray of shape (n_targets,)."""
        return 2.0 * np.pi * np.arange(self.n_targets) / self.n_targets

    def endpoints(self, rotation_deg: float = 0.0) -> np.ndarray:
        """Where the output must end, ndarray of shape (n_targets, 2).

        Under a visuomotor rotation the cursor is the output rotated by
        ``rotation_deg``; to bring the cursor to the target the output must end at the
        target rotated by ``-rotation_deg``.
        """
        points = self.radius * np.stack([np.cos(self.angles), np.sin(self.angles)], axis=1)
        return rotate(points, -rotation_deg)

    def trials(self, target_ids: np.ndarray, rotation_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and output targets of a batch of trials to the task's targets.

        Parameters
        ----------
        target_ids : ndarray of int, shape (n_trials,)
            Target of each trial, in ``range(n_targets)``.
        rotation_deg : float
            Visuomotor rotation applied to the cursor (the output target is the
            endpoint rotated the other way). The inputs still show the true target.

        Returns
        -------
        inputs : ndarray of shape (n_trials, n_steps, 3)
            Target x, target y (from the target step on) and the hold signal.
        targets : ndarray of shape (n_trials, n_steps, 2)
            Output the network should produce.
        """
        return self.trials_at(self.angles[np.asarray(target_ids, dtype=int)], rotation_deg)

    def trials_at(self, angles: np.ndarray, rotation_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`trials`, for targets at any angles (radians) on the circle."""
        angles = np.asarray(angles, dtype=float)
        steps = np.arange(self.n_steps)
        shown = (steps >= self.target_step).astype(float)
        seen = self.radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (n, 2)
        inputs = np.empty((angles.size, self.n_steps, 3))
        inputs[:, :, :2] = seen[:, None, :] * shown[None, :, None]
        inputs[:, :, 2] = (steps < self.go_step).astype(float)[None, :]
        reach = _minimum_jerk((steps * self.dt - self.go_time - self.reaction_time) / self.reach_duration)
        goal = rotate(seen, -rotation_deg)
        targets = goal[:, None, :] * reach[None, :, None]
        return inputs, targets


def _minimum_jerk(phase: np.ndarray) -> np.ndarray:
    """Minimum-jerk profile 10u³ − 15u⁴ + 6u⁵ on u clipped to [0, 1]."""
    u = np.clip(phase, 0.0, 1.0)
    return u**3 * (10.0 - 15.0 * u + 6.0 * u**2)


def rotate(points: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate points (..., 2) counter-clockwise by ``degrees``."""
    theta = np.deg2rad(degrees)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return points @ rot.T
