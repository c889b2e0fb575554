"""The :class:`Mode`: one resonance, whatever engine found it.

Units: wavenumbers in 1/um, lengths in um, wavelengths in nm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from .geometry import LayeredCylinder

HYBRID_THRESHOLD = 0.8  # a mode with no region above this energy fraction is a hybrid (core/wall mixing)
# n_g at the region's surface below this fraction of the layers' own group index: the mode
# circulates more than ~10 % inside that radius, and no group index describes it there
GROUP_INDEX_RATIO_MIN = 0.9


@dataclass(frozen=True, eq=False, kw_only=True)
class Mode:
    """A whispering-gallery resonance of a cylinder cross-section.

    Attributes
    ----------
    pol : ``'Ez'`` or ``'Hz'`` (field component along the fibre axis).
    m : azimuthal number (the field varies as exp(i m phi)).
    p : radial order, the number of maxima of |field| in ``region``.
    region : the layer holding most of the electric energy (``core``, ``wall``, ...,
        or ``outside``).
    k : complex vacuum wavenumber in 1/um; Im k < 0 for a leaky or absorbing
        resonance (time dependence exp(-i omega t)).
    cylinder : the geometry the mode belongs to.
    energy_fractions : fraction of the electric energy in each region.
    engine : which solver produced it (``exact``, ``fem1d``, ``fem2d``).
    fsr_nm : free spectral range to the neighbouring m of the same
        (pol, p, region) family: (lambda_{m-1} - lambda_{m+1}) / 2 when both
        neighbours are known, else the one-sided difference. None if not computed.
    verification : how this mode was checked (method, residual, census count,
        region fraction, ...); see ``docs/theory.md``.
    q_rad : radiation Q of the lossless counterpart when ``k`` includes absorption or gain.
    nodes : number of zeros of the field inside the fibre (0 < r < outer radius) at the
        resonance (of the lossless counterpart for absorbing or gain stacks). Resonances of
        one (pol, m) interlace with the resonances of the fibre with a zero at its surface,
        one between each consecutive pair under a tunnelling barrier, so (pol, m, nodes)
        identifies a mode where (p, region) only describes it.
    sibling : where the outer surface is not under a barrier an interval may hold more than
        one resonance: their rank by wavelength, from the longest (0, the usual value).
        :attr:`mode_id` = (pol, m, nodes, sibling) identifies every mode.
    beta_per_um : axial wavevector beta in 1/um (fields ~ exp(i m phi + i beta z)). For beta != 0
        (a skew mode, :mod:`wgmfem.exact.skew`) Ez and Hz mix: ``pol``, ``p``, ``nodes`` and
        ``sibling`` are those of the beta = 0 resonance it continues (quasi-Ez / quasi-Hz), and
        the closed forms of the beta = 0 field (profile, effective area, lasing gain, FSR,
        group index) are not given.

    Sign convention: Im k < 0 decays, Im k > 0 grows (net gain). Every Q is signed the same
    way: Q_total < 0 (and Q_abs < 0) means the mode is amplified faster than it loses.
    """

    pol: str
    m: int
    p: int
    region: str
    k: complex
    cylinder: LayeredCylinder
    energy_fractions: dict[str, float]
    engine: str = "exact"
    fsr_nm: float | None = None
    verification: dict = field(default_factory=dict)
    q_rad: float | None = None  # radiation Q when k also carries absorption (else from k)
    q_extra: float | None = None  # user-given extra loss (scattering, coupling) as a Q
    nodes: int | None = None  # zeros of the field inside the fibre: with (pol, m, sibling) it identifies the mode
    sibling: int = 0  # rank among resonances between the same two consecutive surface zeros (usually 0)
    exact_k: complex | None = None  # a FEM mode: the exact root of ``cylinder`` it continues
    beta_per_um: float = 0.0  # axial wavevector (1/um): 0 for the cross-section's own resonances

    @property
    def root_k(self) -> complex:
        """The exact root of :attr:`cylinder` behind this mode: ``k`` itself for the exact
        engine, the seed's root for a FEM mode. The closed forms (field profile, sensitivity,
        effective area, lasing gain) need a root of the characteristic function: evaluated at a
        FEM eigenvalue 1e-6 away (or at a perturbed fibre's) they would be meaningless."""
        return self.k if self.exact_k is None else self.exact_k

    # -- derived quantities ------------------------------------------------
    @property
    def wavelength_nm(self) -> float:
        """Vacuum resonance wavelength 2 pi / Re k, in nm."""
        return 2 * math.pi / self.k.real * 1000.0

    @property
    def Q_resonance(self) -> float:
        """F Re k / (2 |Im k|): radiation and absorption of the computed resonance, with the
        stored-energy factor F = :attr:`dispersion_factor` of dispersive materials."""
        return math.inf if self.k.imag == 0 else self.dispersion_factor * self.k.real / (-2 * self.k.imag)

    @property
    def dispersion_factor(self) -> float:
        """F = sum over layers of Gamma_j n_g,j / n_j (1 without material dispersion).

        A dispersive resonance is solved at the indices of its own real wavelength, which
        gives the radiated and absorbed power exactly; but a dispersive medium stores more
        energy, d(omega eps)/d omega |E|^2 = (2 n_g/n - 1) eps |E|^2, so with equal electric
        and magnetic energy the stored energy grows by F (Gamma_j: electric energy fractions)
        and every decay rate falls by F: each Q (radiation, absorption) is F times
        Re k / (2 |Im k|). The outer medium is taken as non-dispersive (it holds ~1e-2 of the
        energy of a guided WGM at most).
        """
        slopes = self.verification.get("dn_dlambda_per_nm")
        if not slopes:
            return 1.0
        factor = 0.0
        for name, gamma in self.energy_fractions.items():
            if slopes.get(name) and name in self.cylinder.names:
                n = complex(self.cylinder.indices[self.cylinder.layer_of(name)]).real
                factor += gamma * (n - self.wavelength_nm * slopes[name]) / n
            else:
                factor += gamma
        return factor

    @property
    def Q_rad(self) -> float:
        """Radiation quality factor (of the same stack without absorption)."""
        return self.Q_resonance if self.q_rad is None else self.q_rad

    @property
    def Q_abs(self) -> float:
        """Absorption quality factor: 1/Q_abs = 1/Q_resonance - 1/Q_rad (inf without absorption;
        negative where the layers amplify: gain)."""
        inverse = 1 / self.Q_resonance - 1 / self.Q_rad
        rates = self.cylinder.loss_rates()
        if inverse == 0 or (inverse < 0 and rates[1] == 0) or (inverse > 0 and rates[0] == 0):
            return math.inf  # round-off against the sign the materials allow
        return 1 / inverse

    @property
    def Q_extra(self) -> float:
        """User-given extra loss (scattering, coupling) as a Q (inf if none)."""
        return math.inf if not self.q_extra else self.q_extra

    @property
    def Q_total(self) -> float:
        """The loss budget: 1/Q_total = 1/Q_rad + 1/Q_abs + 1/Q_extra (negative: net gain)."""
        inverse = 1 / self.Q_resonance + 1 / self.Q_extra
        return math.inf if inverse == 0 else 1 / inverse

    @property
    def net_gain(self) -> bool:
        """True when the mode grows in time: the layers' gain exceeds every loss (Q_total < 0)."""
        return self.Q_total < 0

    @property
    def linewidth_nm(self) -> float:
        """Full width at half maximum lambda / |Q_total|, in nm."""
        return self.wavelength_nm / abs(self.Q_total)

    @property
    def core_fraction(self) -> float:
        return self.energy_fractions.get("core", 0.0)

    @property
    def wall_fraction(self) -> float:
        return self.energy_fractions.get("wall", 0.0)

    @property
    def region_fraction(self) -> float:
        return self.energy_fractions[self.region]

    @property
    def hybrid(self) -> bool:
        """True when no region holds more than 80 % of the energy (core/wall mixing)."""
        return self.region_fraction < HYBRID_THRESHOLD

    @property
    def guiding_radius_um(self) -> float:
        """Outer radius of the region layer: the radius the mode circulates along."""
        j = self.cylinder.layer_of(self.region)
        return self.cylinder.radii_um[min(j, self.cylinder.n_layers - 1)]

    @property
    def surface_group_index(self) -> float | None:
        """lambda^2 / (2 pi R FSR) with R = :attr:`guiding_radius_um`, whatever the mode
        (None without an FSR): the group index referred to the region's outer surface."""
        if not self.fsr_nm:
            return None
        lam_um = self.wavelength_nm / 1000
        return lam_um**2 / (2 * math.pi * self.guiding_radius_um * self.fsr_nm / 1000)

    @property
    def material_group_index(self) -> float:
        """sum_j Gamma_j n_g,j: the layers' material group indices n - lambda dn/dlambda
        weighted by the electric energy fractions Gamma_j (the outer medium non-dispersive)."""
        slopes = self.verification.get("dn_dlambda_per_nm") or {}
        total = 0.0
        for name, gamma in self.energy_fractions.items():
            if name in self.cylinder.names:
                n = complex(self.cylinder.indices[self.cylinder.layer_of(name)]).real
            else:
                n = complex(self.cylinder.outside_index).real
            total += gamma * (n - self.wavelength_nm * (slopes.get(name) or 0.0))
        return total

    @property
    def group_index_note(self) -> str | None:
        """Why :attr:`group_index` is absent (None when it is given)."""
        if self.beta_per_um:
            return "skew mode (beta != 0): its azimuthal FSR is not computed"
        if not self.fsr_nm:
            return "no FSR computed"
        if self.hybrid:
            return "hybrid mode: its FSR is set by the anticrossing, not by a group velocity"
        surface = self.surface_group_index
        assert surface is not None  # an FSR is known
        ratio = surface / self.material_group_index
        if ratio < GROUP_INDEX_RATIO_MIN:
            return (
                f"the mode circulates well inside the {self.region}'s outer surface (n_g referred to it would be "
                f"{self.surface_group_index:.3f}, {ratio:.2f} of the layers' {self.material_group_index:.3f}): use fsr_nm"
            )
        return None

    @property
    def group_index(self) -> float | None:
        """n_g = lambda^2 / (2 pi R FSR), R = :attr:`guiding_radius_um` (includes material
        dispersion when the indices depend on wavelength), given where it describes the
        mode: an FSR is known, the mode is not a hybrid, and n_g is at least
        ``GROUP_INDEX_RATIO_MIN`` of :attr:`material_group_index` (a mode that circulates
        well inside R, deep in a thick wall, has a smaller n_g at R that no medium has).
        Otherwise None, and :attr:`group_index_note` says why."""
        return self.surface_group_index if self.group_index_note is None else None

    # -- designer quantities (computed on first use; see wgmfem.quantities) ---
    @property
    def confinement_factor(self) -> float:
        """Fraction of the electric energy in the core (the gain liquid)."""
        return self.core_fraction

    @cached_property
    def sensitivity_nm_per_riu(self) -> float | None:
        """Bulk sensitivity d lambda / d n_core in nm per refractive-index unit (exact engine)."""
        from .quantities import sensitivity_nm_per_riu

        return sensitivity_nm_per_riu(self) if "core" in self.cylinder.names and self._has_derivatives else None

    @property
    def _has_derivatives(self) -> bool:
        """d lambda / d n_j is known: the closed form at a root, or a skew mode's own."""
        return self._has_root or "dlambda_dn_nm" in self.verification

    @property
    def _has_root(self) -> bool:
        """A root of the (beta = 0) characteristic function stands behind this mode (see
        :attr:`root_k`): not so for a FEM mode whose labels differ from its exact seed's, nor
        for a skew mode."""
        return (self.engine == "exact" or self.exact_k is not None) and self.beta_per_um == 0

    @cached_property
    def axial_curvature(self) -> float | None:
        """alpha = d(k^2)/d(beta^2) at beta = 0 (dimensionless, ~1/n_eff^2): near cutoff
        k(beta)^2 = k(0)^2 + alpha beta^2, the "effective mass" of the axial motion; divided by
        :attr:`dispersion_factor` when the indices follow the wavelength. From exact skew roots
        (:func:`wgmfem.exact.skew.axial_curvature`); None without an exact root."""
        if "axial_curvature" in self.verification:
            return self.verification["axial_curvature"]
        if not self._has_root:
            return None
        from .exact.skew import axial_curvature

        return axial_curvature(self.cylinder, self.m, self.root_k) / self.dispersion_factor

    @property
    def axial_group_velocity_c(self) -> float:
        """Axial group velocity d omega / d beta in units of c (0 at beta = 0)."""
        return float(self.verification.get("axial_group_velocity_c", 0.0)) if self.beta_per_um else 0.0

    @cached_property
    def detection_limit_riu(self) -> float | None:
        """Smallest change of the core's index resolved when a shift of 1 % of the linewidth
        (lambda / |Q_total|) can be seen: 0.01 lambda / (|Q_total| S), RIU (see
        :func:`wgmfem.quantities.detection_limit_riu` for another fraction or Q)."""
        from .quantities import detection_limit_riu

        return detection_limit_riu(self) if "core" in self.cylinder.names and self._has_derivatives else None

    @cached_property
    def threshold_gain_per_cm(self) -> float | None:
        """Material gain in the core at threshold from the Q budget, 2 pi n F / (Gamma Q lambda), 1/cm."""
        from .quantities import threshold_gain_per_cm

        return threshold_gain_per_cm(self)

    @cached_property
    def lasing_gain_per_cm(self) -> float | None:
        """Exact gain in the core (intensity, 1/cm) that brings the resonance to Im k = 0."""
        from .quantities import lasing_gain_per_cm

        return lasing_gain_per_cm(self) if "core" in self.cylinder.names and self.beta_per_um == 0 else None

    @cached_property
    def effective_area_um2(self) -> float | None:
        """Effective mode area (int |E|^2 dA)^2 / int |E|^4 dA of the travelling wave, um^2
        (per unit fibre length: the cross-section's area; E = Ez, or the in-plane E of an Hz mode).

        Composite Gauss-Legendre quadrature (8 nodes per half local wavelength, panels split
        at the interfaces) over the radii where |E|^2 exceeds 1e-10 of its peak, up to the outer
        medium's turning point plus one wavelength (where the energy fractions stop too): a few
        hundred field values, exact to ~1e-10 for the smooth integrand of each layer. None for
        a FEM mode without an exact root behind it."""
        if not self._has_root:
            return None
        r, w = self._quadrature_nodes_um()
        R, dR = self._raw_field(r, derivative=True, real_k=self._shape_at_real_k)
        n = np.array([complex(self.cylinder.index_at(x)) for x in r]) if self.pol == "Hz" else None
        if self.pol == "Ez":
            e2 = np.abs(R) ** 2
        else:
            assert n is not None  # Hz
            e2 = (np.abs(dR) ** 2 + self.m**2 * np.abs(R) ** 2 / r**2) / np.abs(n) ** 4
        first = 2 * np.pi * np.sum(w * e2 * r)
        second = 2 * np.pi * np.sum(w * e2**2 * r)
        return float(first**2 / second)

    @property
    def _shape_at_real_k(self) -> bool:
        """A lossless high-Q mode's profile at Re k: the same to O(1/Q) < 1e-6, and real Bessel
        arguments cost a fifth of complex ones."""
        return self.cylinder.is_lossless and self.Q_resonance >= 1e6

    def _quadrature_window_um(self, threshold: float = 1e-10) -> tuple[float, float]:
        """The radii (lo, hi) where |E|^2 exceeds ``threshold`` of its peak, within the outer
        medium's turning point plus one wavelength (see :meth:`effective_area_um2`)."""
        outer = self.cylinder.outer_radius_um
        # as for the energy fractions: the outer medium up to its turning point m / (k n_out) plus
        # one wavelength (beyond, the energy belongs to the radiated wave)
        k_out = self.k.real * complex(self.cylinder.outside_index).real
        end = max(outer, self.m / k_out) + 2 * math.pi / k_out
        coarse = np.linspace(outer * 1e-6, end, 801)
        intensity = np.abs(self._raw_field(coarse, real_k=self._shape_at_real_k)) ** 2
        significant = coarse[intensity > threshold * intensity.max()]
        step = coarse[1] - coarse[0]
        return max(significant.min() - 2 * step, outer * 1e-6), min(significant.max() + 2 * step, end)

    def _quadrature_nodes_um(self, nodes_per_panel: int = 8):
        """Gauss-Legendre nodes and weights over :meth:`_quadrature_window_um`, panels split at
        the interfaces and no wider than half the local wavelength."""
        lo, hi = self._quadrature_window_um()
        cuts = [lo] + [b for b in self.cylinder.radii_um if lo < b < hi] + [hi]
        x, w = np.polynomial.legendre.leggauss(nodes_per_panel)
        nodes, weights = [], []
        for a, b in zip(cuts[:-1], cuts[1:]):
            n_local = complex(self.cylinder.index_at(0.5 * (a + b))).real
            half = 0.5 * 2 * math.pi / (self.k.real * max(n_local, 1.0))
            edges = np.linspace(a, b, int(np.ceil((b - a) / half)) + 1)
            for e0, e1 in zip(edges[:-1], edges[1:]):
                nodes.append(0.5 * (e1 - e0) * x + 0.5 * (e1 + e0))
                weights.append(0.5 * (e1 - e0) * w)
        return np.concatenate(nodes), np.concatenate(weights)

    @cached_property
    def _field_norm(self) -> complex:
        r = np.linspace(0, self.cylinder.outer_radius_um, 4001)
        values = self._raw_field(r)
        return values[np.argmax(np.abs(values))]

    def _raw_field(self, r_um, derivative: bool = False, real_k: bool = False):
        from .exact.field import radial_field

        k = complex(self.root_k.real) if real_k else self.root_k
        return radial_field(self.cylinder, self.pol, self.m, k, r_um, derivative=derivative)

    def field(self, r_um) -> np.ndarray:
        """Radial profile R(r) of Ez or Hz (per :attr:`pol`) at radii ``r_um``, complex,
        normalized to 1 at its largest value inside the fibre (beta = 0 modes only)."""
        if self.beta_per_um:
            raise ValueError("the radial profile is given for beta = 0 modes only (a skew mode mixes Ez and Hz)")
        return self._raw_field(r_um) / self._field_norm

    def field_components(self, r_um):
        """All six components (Er, Ephi, Ez, Hr, Hphi, Hz; Z0 = 1) at radii ``r_um`` as a
        :class:`wgmfem.exact.skew_field.SkewField`, normalized to max |E| = 1 inside the fibre:
        any beta (the coupled Ez/Hz problem), at the exact root behind the mode."""
        from .exact.skew_field import skew_field

        if not (self.engine == "exact" or self.exact_k is not None):
            raise ValueError("field components need an exact root behind the mode")
        return skew_field(self.cylinder, self.m, self.root_k, self.beta_per_um, r_um)

    def counterpart(self, *, engine: str, k: complex, m: int, p: int, region: str, energy_fractions: dict[str, float],
                    verification: dict, fsr_nm: float | None = None) -> Mode:
        """This resonance as found by another engine (a FEM seeded by this exact mode).

        The new ``k``, labels, fractions and verification record are the engine's; what the
        engine does not compute is kept from this mode: the radiation Q of the lossless
        partner when ``k`` carries absorption or gain (``q_rad``), the user's extra loss, the
        material-dispersion slopes behind :attr:`dispersion_factor`, and, when the labels
        agree, ``nodes`` / ``sibling`` and the exact root (:attr:`root_k`) at which the closed
        forms are evaluated.
        """
        record = dict(verification)
        slopes = self.verification.get("dn_dlambda_per_nm")
        if slopes:
            record.setdefault("dn_dlambda_per_nm", dict(slopes))
        if self.q_rad is not None:
            record.setdefault("Q_rad_from", "the exact lossless partner of the seed (the FEM solves the lossy stack)")
        same = (m, p, region) == (self.m, self.p, self.region)
        record.setdefault("closed_forms_at", "the exact root of the concentric fibre (field, sensitivity, effective area)")
        return replace(
            self, engine=engine, k=complex(k), m=int(m), p=int(p), region=region, energy_fractions=dict(energy_fractions),
            verification=record, fsr_nm=fsr_nm, nodes=self.nodes if same else None, sibling=self.sibling if same else 0,
            exact_k=self.root_k if same else None,
        )

    @property
    def mode_id(self) -> tuple:
        """(pol, m, nodes, sibling): unique among the resonances of one fibre."""
        return (self.pol, self.m, self.nodes, self.sibling)

    def label(self) -> str:
        skew = f" beta={self.beta_per_um:g}/um" if self.beta_per_um else ""
        return f"{self.pol} m={self.m} p={self.p} {self.region}{skew}"

    def to_dict(self, lasing_gain: bool = False) -> dict:
        """Plain JSON-ready record (the keys of ``wgmfem modes --format json``).

        ``lasing_gain``: also the exact lasing condition, ``lasing_gain_per_cm`` (~0.1 s a mode:
        a secant of complex roots and a census check; the other quantities take ~25 ms)."""
        record = {
            "pol": self.pol,
            "m": self.m,
            "p": self.p,
            "region": self.region,
            "wavelength_nm": self.wavelength_nm,
            "k_real": self.k.real,
            "k_imag": self.k.imag,
            "Q_rad": self.Q_rad,
            "Q_abs": self.Q_abs,
            "Q_extra": self.Q_extra,
            "Q_total": self.Q_total,
            "net_gain": self.net_gain,
            "nodes": self.nodes,
            "sibling": self.sibling,
            "dispersion_factor": self.dispersion_factor,
            "fsr_nm": self.fsr_nm,
            "group_index": self.group_index,
            "group_index_note": self.group_index_note,
            "core_fraction": self.core_fraction,
            "wall_fraction": self.wall_fraction,
            "hybrid": self.hybrid,
            "engine": self.engine,
            "confinement_factor": self.confinement_factor,
            "sensitivity_nm_per_riu": self.sensitivity_nm_per_riu,
            "detection_limit_riu": self.detection_limit_riu,
            "threshold_gain_per_cm": self.threshold_gain_per_cm,
            "effective_area_um2": self.effective_area_um2,
        }
        if lasing_gain:
            record["lasing_gain_per_cm"] = self.lasing_gain_per_cm
        if self.beta_per_um or "axial_curvature" in self.verification:
            record["beta_per_um"] = self.beta_per_um
            record["axial_curvature"] = self.axial_curvature
            record["axial_group_velocity_c"] = self.axial_group_velocity_c
        for name, value in self.energy_fractions.items():
            record[f"{name}_fraction"] = value
        record["verification"] = dict(self.verification)
        return record

    def __repr__(self) -> str:
        fsr = f", fsr={self.fsr_nm:.4f} nm" if self.fsr_nm else ""
        return (
            f"Mode({self.label()}, lambda={self.wavelength_nm:.4f} nm, Q={self.Q_rad:.3g}, "
            f"{self.region} {100 * self.region_fraction:.1f}%{fsr}, engine={self.engine})"
        )
