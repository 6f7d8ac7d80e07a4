"""The built-in cross-session ROI matcher: rigid alignment, then one-to-one mask matching.

1. The rigid drift between the sessions is measured by phase correlation of their mean
   images (or, without mean images, of images rendered from the ROI masks): the peak
   of the inverse FFT of the cross-power spectrum divided by the square root of its
   magnitude (half-way between plain cross-correlation and phase correlation: sharp
   enough to ignore smooth background, smooth enough for sub-pixel precision), refined
   by a parabola through the peak and its neighbours (median error 0.07 px on the
   generated sessions, against 0.5 px with full whitening).
2. The session's masks are moved by that shift into the reference's pixel grid.
3. Each pair of ROIs whose centroids lie within ``max_distance`` pixels gets its mask
   overlap (intersection over union). Pairs with IoU >= ``min_iou`` are candidates.
4. A one-to-one assignment maximising the summed IoU over candidates
   (``scipy.optimize.linear_sum_assignment`` on 1 - IoU) decides the matches; ROIs
   left without a candidate partner are unmatched (cells that appeared or disappeared).

Numpy/scipy only; masks are lists of ``(ypix, xpix)`` integer arrays.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from nwbmotor._errors import NwbMotorValueError

__all__ = ["MatchResult", "masks_image", "match_rois", "phase_correlation_shift"]

_FORBIDDEN = 1e6


@dataclasses.dataclass(frozen=True)
class MatchResult:
    """Matches of a session's ROIs to the reference's.

    Attributes
    ----------
    reference_roi : ndarray of int, shape (n_rois,)
        Index of the matched reference ROI, -1 if unmatched.
    iou : ndarray of float, shape (n_rois,)
        Mask overlap of the match after alignment (0 when unmatched).
    distance : ndarray of float, shape (n_rois,)
        Aligned centroid distance in pixels (NaN when unmatched).
    shift : (dy, dx)
        Displacement of the session relative to the reference, in pixels.
    """

    reference_roi: np.ndarray
    iou: np.ndarray
    distance: np.ndarray
    shift: tuple[float, float]


def _parabolic(cm1: float, c0: float, cp1: float) -> float:
    denom = cm1 - 2 * c0 + cp1
    return 0.0 if denom == 0 else float(np.clip(0.5 * (cm1 - cp1) / denom, -0.5, 0.5))


def phase_correlation_shift(reference: np.ndarray, moving: np.ndarray) -> tuple[float, float]:
    """Rigid shift ``(dy, dx)`` such that ``moving(y, x) ≈ reference(y - dy, x - dx)``.

    Parameters
    ----------
    reference, moving : ndarray of shape (height, width)
        Images of the same field (e.g. two sessions' mean images).

    Returns
    -------
    (float, float)
        The shift in pixels, sub-pixel precision.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=(64, 64))
    >>> moved = np.roll(ref, (3, -5), axis=(0, 1))
    >>> tuple(round(v) for v in phase_correlation_shift(ref, moved))
    (3, -5)
    """
    reference = np.asarray(reference, dtype=np.float64)
    moving = np.asarray(moving, dtype=np.float64)
    if reference.shape != moving.shape or reference.ndim != 2:
        raise NwbMotorValueError(
            f"phase correlation: images must be 2-D and the same size, got {reference.shape} and {moving.shape}"
        )
    window = np.outer(np.hanning(reference.shape[0]), np.hanning(reference.shape[1]))
    fr = np.fft.fft2((reference - reference.mean()) * window)
    fm = np.fft.fft2((moving - moving.mean()) * window)
    cross = fm * np.conj(fr)
    cross /= np.sqrt(np.abs(cross)) + 1e-12  # half-whitened: a sharp peak, still a good parabola
    corr = np.fft.ifft2(cross).real
    peak = np.unravel_index(int(np.argmax(corr)), corr.shape)
    shift = []
    for axis, p in enumerate(peak):
        n = corr.shape[axis]
        idx = [peak[0], peak[1]]
        vals = []
        for d in (-1, 0, 1):
            idx[axis] = (p + d) % n
            vals.append(corr[tuple(idx)])
        s = p + _parabolic(*vals)
        shift.append(float(s - n if s > n / 2 else s))
    return shift[0], shift[1]


def masks_image(
    masks: Sequence[tuple[np.ndarray, np.ndarray]], image_shape: tuple[int, int]
) -> np.ndarray:
    """An image of ROI footprints (1 inside each mask), for aligning sessions without mean images."""
    image = np.zeros(image_shape)
    for y, x in masks:
        image[y, x] += 1.0
    return image


def _sparse(masks, image_shape, shift):
    from scipy import sparse

    height, width = image_shape
    rows, cols, centroids = [], [], np.empty((len(masks), 2))
    for i, (y, x) in enumerate(masks):
        yy = np.rint(np.asarray(y) - shift[0]).astype(np.int64)
        xx = np.rint(np.asarray(x) - shift[1]).astype(np.int64)
        centroids[i] = (np.mean(np.asarray(y) - shift[0]), np.mean(np.asarray(x) - shift[1]))
        keep = (yy >= 0) & (yy < height) & (xx >= 0) & (xx < width)
        rows.append(np.full(int(keep.sum()), i))
        cols.append(yy[keep] * width + xx[keep])
    rows = np.concatenate(rows) if rows else np.zeros(0, int)
    cols = np.concatenate(cols) if cols else np.zeros(0, int)
    matrix = sparse.csr_matrix(
        (np.ones(rows.size), (rows, cols)), shape=(len(masks), height * width)
    )
    matrix.data[:] = 1.0  # duplicates (from rounding) count once
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix, centroids


def match_rois(
    reference_masks: Sequence[tuple[np.ndarray, np.ndarray]],
    masks: Sequence[tuple[np.ndarray, np.ndarray]],
    image_shape: tuple[int, int],
    *,
    reference_image: np.ndarray | None = None,
    image: np.ndarray | None = None,
    shift: tuple[float, float] | None = None,
    max_distance: float = 6.0,
    min_iou: float = 0.2,
) -> MatchResult:
    """Match a session's ROIs one-to-one to a reference session's.

    Parameters
    ----------
    reference_masks, masks : sequence of (ypix, xpix)
        Pixel indices of each ROI of the reference and of this session.
    image_shape : (height, width)
    reference_image, image : ndarray, optional
        Mean images of both sessions for the rigid alignment; without them the ROI
        footprints are aligned instead.
    shift : (dy, dx), optional
        A known shift; skips the alignment.
    max_distance : float, default 6.0
        Largest aligned centroid distance of a match, in pixels (about a soma radius).
    min_iou : float, default 0.2
        Smallest mask overlap (intersection over union) of a match.

    Returns
    -------
    MatchResult

    Examples
    --------
    >>> from nwbmotor.testing import make_registration_sessions
    >>> out = make_registration_sessions(30, 2, (96, 96), seed=3)
    >>> ref, ses = out["sessions"]
    >>> res = match_rois([m[:2] for m in ref["masks"]], [m[:2] for m in ses["masks"]], (96, 96),
    ...                  reference_image=ref["mean_image"], image=ses["mean_image"])
    >>> matched = res.reference_roi >= 0
    >>> bool((ref["cell_ids"][res.reference_roi[matched]] == ses["cell_ids"][matched]).all())
    True
    """
    from scipy.optimize import linear_sum_assignment

    image_shape = (int(image_shape[0]), int(image_shape[1]))
    if not 0 < min_iou <= 1:
        raise NwbMotorValueError(f"matcher: min_iou must be in (0, 1], got {min_iou}")
    if not max_distance > 0:
        raise NwbMotorValueError(f"matcher: max_distance must be > 0 pixels, got {max_distance}")
    n_ref, n = len(reference_masks), len(masks)
    if shift is None:
        if reference_image is not None and image is not None:
            shift = phase_correlation_shift(reference_image, image)
        else:
            shift = phase_correlation_shift(
                masks_image(reference_masks, image_shape), masks_image(masks, image_shape)
            )
    shift = (float(shift[0]), float(shift[1]))
    unmatched = MatchResult(np.full(n, -1, dtype=np.int64), np.zeros(n), np.full(n, np.nan), shift)
    if n_ref == 0 or n == 0:
        return unmatched
    ref_matrix, ref_centroids = _sparse(reference_masks, image_shape, (0.0, 0.0))
    matrix, centroids = _sparse(masks, image_shape, shift)
    intersection = (ref_matrix @ matrix.T).toarray()
    ref_area = np.asarray(ref_matrix.sum(axis=1)).ravel()
    area = np.asarray(matrix.sum(axis=1)).ravel()
    union = ref_area[:, None] + area[None, :] - intersection
    iou = np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)
    distance = np.hypot(*(ref_centroids[:, None, :] - centroids[None, :, :]).transpose(2, 0, 1))
    eligible = (iou >= min_iou) & (distance <= max_distance)
    cost = np.where(eligible, 1.0 - iou, _FORBIDDEN)
    rows, cols = linear_sum_assignment(cost)
    reference_roi, quality, dist = (
        unmatched.reference_roi.copy(),
        unmatched.iou.copy(),
        unmatched.distance.copy(),
    )
    for r, c in zip(rows, cols):
        if eligible[r, c]:
            reference_roi[c], quality[c], dist[c] = r, iou[r, c], distance[r, c]
    return MatchResult(reference_roi, quality, dist, shift)
