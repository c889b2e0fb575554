"""Name the eigenvectors of the 2-D cross-section FEM: (m, p, region), PML modes, +-m pairs.

Units: lengths in um, wavenumbers in 1/um, wavelengths in nm.

* region: the layer (or ``outside``) with the largest electric energy fraction
  (computed by :func:`wgmfem.fem.cross_section.solve_cross_section` per subdomain).
* PML modes: more than ``max_pml_fraction`` of the energy in the PML; dropped.
* m: the dominant |m| of the angular Fourier spectrum on a circle through the
  main maximum of the field in its region; purity = fraction of the spectral
  power at +-m. On a sector of angle alpha only m = m_b + q 2 pi / alpha exist
  (m_b from the Floquet phase), and the spectrum is taken over the sector.
* p: the number of maxima of the radial amplitude R(r) in the region, with
  R(r)^2 = sum over a few rays of |u|^2. For a pure mode u = R(r) cos(m phi + c)
  this sum is R(r)^2 times a constant, whatever the mix of +m and -m.
* +-m pairs: with rotational symmetry exp(+i m phi) and exp(-i m phi) are
  degenerate; the two eigenvectors with the same (|m|, p, region) are reported
  as one :class:`wgmfem.Mode` (k = their mean) with both k and the splitting in
  ``verification`` (a perturbation such as an elliptical bore lifts it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .cross_section import CrossSectionResult
from .evaluate import evaluate
from .radial import DEFAULT_MAX_PML_FRACTION

#: Two eigenvectors with equal labels and k within this relative distance are a +-m pair.
DEFAULT_PAIR_TOLERANCE = 1e-3
#: Rays used for the radial profile (their number and angles avoid common symmetries).
NUM_RAYS = 7
#: On a periodic sector (concentric fibre) a mode is R(r) (a cos m phi + b sin m phi) with m a
#: multiple of the sector's period: three rays spread over the sector never all sit on a node.
NUM_RAYS_SECTOR = 3
#: Samples along each ray: SAMPLES_PER_LOBE per possible radial lobe (a lobe is at least
#: half a local wavelength long, pi / (n_max k) um), between MIN_ and MAX_RAY_SAMPLES.
SAMPLES_PER_LOBE = 16
MIN_RAY_SAMPLES = 200
MAX_RAY_SAMPLES = 1200
#: A radial maximum counts only above this fraction of the largest amplitude...
MAX_THRESHOLD = 1e-3
#: ... and if it rises this fraction of the largest amplitude above its neighbouring minima.
MIN_PROMINENCE = 0.05


@dataclass
class ModeLabel:
    """What identification found for eigenvector ``index`` of a result.

    m : dominant |m|; purity : spectral power fraction at +-m; p : radial maxima in
    ``region``; fractions : energy per region (layers + ``outside``, PML excluded);
    pml_fraction : energy in the PML; r_probe_um : radius of the circle used for m;
    spurious : True for a PML mode.
    """

    index: int
    k: complex
    m: int
    purity: float
    p: int
    region: str
    fractions: dict
    pml_fraction: float
    r_probe_um: float
    spurious: bool


# --------------------------------------------------------------------------
# geometry helpers
# --------------------------------------------------------------------------
def _center(result: CrossSectionResult, region: str) -> tuple[float, float]:
    """The bore centre for the core (it may be offset), else the fibre axis."""
    if region == result.cylinder.region_names[0]:
        return result.mesh_params.get("bore_offset_um", 0.0), 0.0
    return 0.0, 0.0


def _ray_exit(bnd, center, phi) -> np.ndarray:
    """Distance (um) from ``center`` along the rays at angles ``phi`` to where they leave
    the ellipse/circle ``bnd`` (the centre lies inside it)."""
    c, s = np.cos(phi), np.sin(phi)
    dx, dy = center[0] - bnd.xc, center[1] - bnd.yc
    qa = (c / bnd.a) ** 2 + (s / bnd.b) ** 2
    qb = 2 * (dx * c / bnd.a**2 + dy * s / bnd.b**2)
    qc = (dx / bnd.a) ** 2 + (dy / bnd.b) ** 2 - 1
    return (-qb + np.sqrt(qb * qb - 4 * qa * qc)) / (2 * qa)


def _ray_intervals(result: CrossSectionResult, region: str, center, phi):
    """(r_in, r_out) in um along each ray: where the rays enter and leave ``region``.

    Uses the exact (possibly offset / elliptical) boundaries of the mesh, so that a
    ray never samples the neighbouring layer; the PML is never part of a region.
    """
    from .mesh import mesh_boundaries

    bnds, regions = mesh_boundaries(result.mesh_params)
    i = regions.index(region)
    has_cut = bnds[0].name == "cut"
    inner = bnds[i] if has_cut else (bnds[i - 1] if i > 0 else None)
    outer = bnds[i + 1] if has_cut else bnds[i]
    r_in = np.zeros_like(phi) if inner is None else _ray_exit(inner, center, phi)
    return r_in, _ray_exit(outer, center, phi)


def _ray_angles(result: CrossSectionResult) -> np.ndarray:
    if result.sector_angle is None:
        return 2 * math.pi * ((np.arange(NUM_RAYS) * 0.6180339887) % 1.0)
    return result.sector_angle * (0.05 + 0.9 * (np.arange(NUM_RAYS_SECTOR) * 0.6180339887 % 1.0))


def _max_harmonic(result: CrossSectionResult, r_um: float) -> float:
    """Largest |m| a field at radius r can carry without being evanescent everywhere (n_max k r)."""
    n_max = max(complex(n).real for n in result.cylinder.all_indices)
    return n_max * result.k_target.real * r_um + 20


# --------------------------------------------------------------------------
# radial profile and angular spectrum
# --------------------------------------------------------------------------
def radial_profiles(result: CrossSectionResult, region: str, samples: int | None = None):
    """Radii r (um) in ``region`` and amplitudes R(r) of every mode, shape (samples, num_modes).

    R^2 = sum of |u|^2 over :data:`NUM_RAYS` rays (:data:`NUM_RAYS_SECTOR` on a sector) from
    :func:`_center`, each ray sampled between its own entry and exit of the region (a
    perturbed interface is followed), at
    the same fractions of that interval; r is the mean radius over the rays. ``samples``
    per ray (default: :data:`SAMPLES_PER_LOBE` per half local wavelength of the widest ray).
    """
    center = _center(result, region)
    phi = _ray_angles(result)
    r_in, r_out = _ray_intervals(result, region, center, phi)
    if samples is None:
        n_max = max(complex(n).real for n in result.cylinder.all_indices)
        lobes = n_max * result.k_target.real * float(np.max(r_out - r_in)) / math.pi + 1
        samples = int(np.clip(math.ceil(SAMPLES_PER_LOBE * lobes), MIN_RAY_SAMPLES, MAX_RAY_SAMPLES))
    frac = np.linspace(0.0, 1.0, samples + 2)[1:-1]
    r = r_in[:, None] + np.outer(r_out - r_in, frac)  # (rays, samples)
    x = center[0] + np.cos(phi)[:, None] * r
    y = center[1] + np.sin(phi)[:, None] * r
    vals = evaluate(result, x.ravel(), y.ravel()).reshape(len(phi), samples, -1)
    amp2 = np.nansum(np.abs(vals) ** 2, axis=0)
    return r.mean(axis=0), np.sqrt(amp2)


def count_maxima(amplitude: np.ndarray, threshold: float = MAX_THRESHOLD, prominence: float = MIN_PROMINENCE) -> int:
    """Maxima of a sampled amplitude above ``threshold`` times its largest value.

    A maximum must also rise by ``prominence`` (times the largest value) above the
    minima on both sides: between true radial maxima |R| drops to ~0, while
    interpolation ripples and the kink of a perturbed interface give shallow bumps.
    Only interior maxima count (as in :meth:`wgmfem.fem.radial.RadialFEMResult.radial_order`).
    """
    a = np.asarray(amplitude, dtype=float)
    top = a.max()
    # interior local maxima (the first sample of a plateau), as scipy.signal.find_peaks; its
    # import alone costs ~0.5 s of a 2 s command, so the prominence is computed here
    rising = np.r_[False, a[1:-1] > a[:-2], False]
    not_falling_after = np.r_[False, a[1:-1] >= a[2:], False]
    count = 0
    for i in np.nonzero(rising & not_falling_after & (a >= threshold * top))[0]:
        higher = np.nonzero(a > a[i])[0]  # the peak's base on each side ends at a higher sample
        left = higher[higher < i]
        right = higher[higher > i]
        left_min = a[(left[-1] if left.size else 0): i + 1].min()
        right_min = a[i: (right[0] + 1 if right.size else a.size)].min()
        if a[i] - max(left_min, right_min) >= prominence * top:
            count += 1
    return count


def angular_spectrum(result: CrossSectionResult, r_um: float, i: int | None = None, center=(0.0, 0.0)):
    """Azimuthal orders m and the normalised spectral power of mode(s) on the circle r_um.

    Returns (m, power) with power of shape (len(m), num_modes) (or (len(m),) for one ``i``),
    each column summing to 1. On a sector the circle arc is the sector's and m runs over
    m_b + q 2 pi / angle.
    """
    angle = result.sector_angle or 2 * math.pi
    per_turn = 2 * math.pi / angle
    need = 4 * _max_harmonic(result, r_um) / per_turn + 16
    n = 1 << int(math.ceil(math.log2(need)))
    theta = angle * np.arange(n) / n
    vecs = result.vectors if i is None else result.vectors[:, [i]]
    vals = evaluate(result, center[0] + r_um * np.cos(theta), center[1] + r_um * np.sin(theta), vecs)
    vals = np.nan_to_num(vals)
    m_b = 0.0
    if result.floquet_phase != 1:
        m_b = np.angle(result.floquet_phase) / angle  # exp(i m_b angle) = phase
        vals = vals * np.exp(-1j * m_b * theta)[:, None]
    c = np.fft.fft(vals, axis=0) / n
    m = m_b + np.fft.fftfreq(n, 1.0 / n) * per_turn
    power = np.abs(c) ** 2
    power /= power.sum(axis=0, keepdims=True)
    return (m, power[:, 0]) if i is not None else (m, power)


def _dominant_abs_m(m: np.ndarray, power: np.ndarray) -> tuple[int, float]:
    """The |m| with the largest combined power at +m and -m, and that power (the purity)."""
    mabs = np.rint(np.abs(m)).astype(int)
    per_abs = np.bincount(mabs, power)
    best = int(np.argmax(per_abs))
    return best, float(per_abs[best])


# --------------------------------------------------------------------------
# identification
# --------------------------------------------------------------------------
def identify(result: CrossSectionResult, max_pml_fraction: float = DEFAULT_MAX_PML_FRACTION) -> list[ModeLabel]:
    """Label every eigenvector of ``result`` (PML modes get ``spurious=True`` and m = p = -1)."""
    names = result.region_names
    labels = []
    profiles = {}
    for i in range(result.num_modes):
        frac = {nm: float(f) for nm, f in zip(names, result.layer_fractions[i])}
        pml = float(result.pml_fraction[i])
        region = names[int(np.argmax(result.layer_fractions[i]))]
        if pml > max_pml_fraction:
            labels.append(ModeLabel(i, complex(result.k[i]), -1, 0.0, -1, region, frac, pml, math.nan, True))
            continue
        if region not in profiles:
            profiles[region] = radial_profiles(result, region)
        r, amp = profiles[region]
        p = count_maxima(amp[:, i])
        r_probe = float(r[np.argmax(amp[:, i])])
        m_vals, power = angular_spectrum(result, r_probe, i, center=_center(result, region))
        m, purity = _dominant_abs_m(m_vals, power)
        labels.append(ModeLabel(i, complex(result.k[i]), m, purity, p, region, frac, pml, r_probe, False))
    return labels


def _pairs(labels: list[ModeLabel], pair_tolerance: float) -> list[list[ModeLabel]]:
    """Group physical labels into +-m pairs (same |m|, p, region, close k) and singles."""
    todo = sorted((lb for lb in labels if not lb.spurious), key=lambda lb: lb.k.real)
    groups = []
    while todo:
        first = todo.pop(0)
        partner = None
        if first.m != 0:
            for other in todo:
                same = (other.m, other.p, other.region) == (first.m, first.p, first.region)
                if same and abs(other.k - first.k) <= pair_tolerance * abs(first.k):
                    partner = other
                    break
        if partner is not None:
            todo.remove(partner)
            groups.append([first, partner])
        else:
            groups.append([first])
    return groups


def group_pairs(labels: list[ModeLabel], pair_tolerance: float = DEFAULT_PAIR_TOLERANCE) -> list[list[ModeLabel]]:
    """Physical labels grouped into +-m pairs (same |m|, p, region, k within ``pair_tolerance``
    relative) and singles, by increasing Re k."""
    return _pairs(labels, pair_tolerance)
