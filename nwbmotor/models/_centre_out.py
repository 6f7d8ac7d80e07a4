"""The 8-target centre-out reaching task of the modular network (science.md B).

Shaped like the monkey data the authors trained on (Feulner et al. 2022, data set
``chewie_v2``): 400 steps of 10 ms; 8 targets 45° apart; the hand still at the centre
until shortly after the go cue, then a straight ~8 cm reach with a bell-shaped speed
profile (minimum jerk), held at the target. The network sees three inputs: the
target's x and y (zero until the cue, then 2·(cos θ, sin θ), held) and a hold signal
that is 2 until the go cue and 0 after it.

Timing in seconds on the authors' clock: cue at step 165 (1.65 s), go at step 282
(2.82 s), loss from step 50 (0.5 s), movement onset 0.15 s after go, reach 0.65 s (the
authors' plotted test trial: onset ~15 steps after go, ~65 steps to the target, peak
speed ~24 cm/s on an 8.4 cm reach). Target ``k`` lies at ``(k − 3) · 45°`` as in the
authors' data (target 3 at 0°, target 7 at 180°).

The real trials differ from these in reach distance (7-10 cm), curvature and timing;
the authors train on 2,238 of them and test on a held-out set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CentreOutTask", "rotate"]

# the authors' clock: 400 steps of 10 ms
PAPER_STEPS = 400
PAPER_DT = 0.010


@dataclass(frozen=True)
class CentreOutTask:
    """Timing and geometry of the centre-out task, on a grid of ``n_steps`` steps.

    Parameters
    ----------
    n_steps : int
        Steps per trial.
    dt : float
        Step in seconds.
    n_targets : int
        Targets evenly spaced on a circle.
    first_angle : float
        Angle (degrees) of target 0; target k is at ``first_angle + k · 360 / n_targets``
        (the authors' data: −135°).
    radius : float
        Reach distance (cm).
    target_input, hold_input : float
        Amplitude of the target inputs (2·(cos θ, sin θ)) and of the hold signal.
    target_time, go_time, loss_start_time : float
        Seconds from trial start: target shown, go cue, first step in the loss.
    reaction_time, reach_duration : float
        Seconds from go to movement onset, and of the minimum-jerk reach.
    """

    n_steps: int = PAPER_STEPS
    dt: float = PAPER_DT
    n_targets: int = 8
    first_angle: float = -135.0
    radius: float = 8.0
    target_input: float = 2.0
    hold_input: float = 2.0
    target_time: float = 1.65
    go_time: float = 2.82
    loss_start_time: float = 0.50
    reaction_time: float = 0.15
    reach_duration: float = 0.65

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
        return np.deg2rad(self.first_angle + 360.0 * np.arange(self.n_targets) / self.n_targets)

    def endpoints(self, rotation_deg: float = 0.0) -> np.ndarray:
        """Where the output must end, ndarray of shape (n_targets, 2).

        Under a visuomotor rotation the cursor is the output rotated by
        ``rotation_deg``; to bring the cursor to the target the output must end at the
        target rotated by ``-rotation_deg``.
        """
        points = self.radius * np.stack([np.cos(self.angles), np.sin(self.angles)], axis=1)
        return rotate(points, -rotation_deg)

    def speed_profile(self) -> np.ndarray:
        """Fraction of the reach done at each step, ndarray of shape (n_steps,) from 0 to 1."""
        steps = np.arange(self.n_steps)
        return _minimum_jerk((steps * self.dt - self.go_time - self.reaction_time) / self.reach_duration)

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
            Hand position (cm from the centre) the network should produce.
        """
        return self.trials_at(self.angles[np.asarray(target_ids, dtype=int)], rotation_deg)

    def trials_at(self, angles: np.ndarray, rotation_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`trials`, for targets at any angles (radians) on the circle."""
        angles = np.asarray(angles, dtype=float)
        steps = np.arange(self.n_steps)
        shown = (steps >= self.target_step).astype(float)
        direction = np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (n, 2)
        inputs = np.empty((angles.size, self.n_steps, 3))
        inputs[:, :, :2] = self.target_input * direction[:, None, :] * shown[None, :, None]
        inputs[:, :, 2] = self.hold_input * (steps < self.go_step).astype(float)[None, :]
        goal = rotate(self.radius * direction, -rotation_deg)
        targets = goal[:, None, :] * self.speed_profile()[None, :, None]
        return inputs, targets


def _minimum_jerk(phase: np.ndarray) -> np.ndarray:
    """Minimum-jerk profile 10u³ − 15u⁴ + 6u⁵ on u clipped to [0, 1] (bell-shaped speed)."""
    u = np.clip(phase, 0.0, 1.0)
    return u**3 * (10.0 - 15.0 * u + 6.0 * u**2)


def rotate(points: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate points (..., 2) counter-clockwise by ``degrees``."""
    theta = np.deg2rad(degrees)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return points @ rot.T
