"""Independent high-precision reference for whispering-gallery modes of a layered cylinder.

Written from the physics (the problem below), deliberately *not* from the wgmfem code,
so that the tests compare two independent implementations.

Problem
-------
Layers ``j = 0 .. N-1`` with outer radii ``r_j`` (um) and real indices ``n_j``; an infinite
outer medium ``n_out``.  Time dependence ``exp(-i w t)``, outgoing ``H^(1)_m`` outside.
With ``u = R(r) exp(i m phi)``:

* ``pol="Ez"``: ``u = Ez``; ``u`` and ``du/dr`` continuous;
* ``pol="Hz"``: ``u = Hz``; ``u`` and ``(1/n^2) du/dr`` continuous.

Radial function: core ``A_0 J_m(k n_0 r)``; shell ``j``: ``A_j J_m(k n_j r) + B_j Y_m(k n_j r)``;
outside ``C H1_m(k n_out r)``.

Formulation
-----------
:func:`char_det` is the full ``2N x 2N`` boundary-matching determinant (unknowns
``A_0, A_1, B_1, ..., A_{N-1}, B_{N-1}, C``; two continuity rows per interface), evaluated
with mpmath's arbitrary-precision, arbitrary-exponent numbers, so nothing over- or underflows
(``J_600`` ~ 1e-59 next to ``Y_600`` ~ 1e55 is harmless), by an elimination of our own
(``mpmath.det`` declares such matrices singular and returns 0).  No log-derivative/impedance
propagation is used.  The determinant is an entire function of ``k`` away from the branch cut
of ``Y``/``H`` on the negative real axis; its zeros with ``Im k < 0`` are the resonances.

Outputs: ``wavelength_nm = 2 pi / Re k * 1000``, ``Q = Re k / (2 |Im k|)``.

Everything here is slow (seconds per root at order 600) and meant for tests only.
"""

from __future__ import annotations

import mpmath

__all__ = [
    "DEFAULT_DPS",
    "char_det",
    "real_scan_function",
    "find_root",
    "newton_step",
    "field_coefficients",
    "radial_function",
    "field_energy_fractions",
    "radial_maxima_count",
    "region_names",
    "wavelength_nm",
    "q_factor",
]

DEFAULT_DPS = 30

mp = mpmath.mp


# --------------------------------------------------------------------------- helpers
def _check_pol(pol: str) -> str:
    if pol not in ("Ez", "Hz"):
        raise ValueError(f"pol must be 'Ez' or 'Hz', got {pol!r}")
    return pol


def _bessel(kind: str, m: int, z):
    """Z_m(z) for kind 'J', 'Y' or 'H' (Hankel of the first kind, H = J + iY)."""
    if kind == "J":
        return mpmath.besselj(m, z)
    if kind == "Y":
        return mpmath.bessely(m, z)
    if kind == "H":
        # assemble from J and Y: no cancellation, both computed to full relative precision
        return mpmath.besselj(m, z) + 1j * mpmath.bessely(m, z)
    raise ValueError(kind)


def _bessel_and_derivative(kind: str, m: int, z):
    """(Z_m(z), dZ_m/dz) from the recurrence Z_m' = Z_{m-1} - (m/z) Z_m."""
    zm = _bessel(kind, m, z)
    zm1 = _bessel(kind, m - 1, z)
    return zm, zm1 - (m / z) * zm


def _layer_kinds(j: int, n_layers: int) -> tuple[str, ...]:
    if j == 0:
        return ("J",)
    if j == n_layers:
        return ("H",)
    return ("J", "Y")


def _weight(pol: str, n):
    """Factor multiplying dR/d(k r) in the second continuity condition (k dropped)."""
    # d/dr Z(k n r) = k n Z'(k n r); Ez: continuity of dR/dr -> n Z'; Hz: of dR/dr / n^2 -> Z'/n
    return n if pol == "Ez" else 1 / n


def _mp_indices(indices, n_out):
    return [mpmath.mpf(n) if not isinstance(n, complex) else mpmath.mpc(n) for n in indices] + [mpmath.mpf(n_out)]


def region_names(n_layers: int) -> list[str]:
    """core, wall, layer3, ..., outside (the naming of the project, wgmfem.geometry)."""
    base = ["core", "wall"]
    return [base[i] if i < 2 else f"layer{i + 1}" for i in range(n_layers)] + ["outside"]


# --------------------------------------------------------------------------- determinant
def _matrix(radii, indices, n_out, pol, m, k, outside_kind="H"):
    _check_pol(pol)
    n_layers = len(radii)
    if len(indices) != n_layers:
        raise ValueError("one index per layer")
    ns = _mp_indices(indices, n_out)
    rs = [mpmath.mpf(r) for r in radii]
    size = 2 * n_layers
    mat = mpmath.matrix(size, size)

    def columns(j):
        if j == 0:
            return [0]
        if j == n_layers:
            return [size - 1]
        return [2 * j - 1, 2 * j]

    for i in range(n_layers):  # interface i at r_i between layer i and layer i+1
        for layer, sign in ((i, 1), (i + 1, -1)):
            n = ns[layer]
            z = k * n * rs[i]
            w = _weight(pol, n)
            kinds = _layer_kinds(layer, n_layers)
            if layer == n_layers and outside_kind != "H":
                kinds = (outside_kind,)
            for col, kind in zip(columns(layer), kinds):
                val, der = _bessel_and_derivative(kind, m, z)
                mat[2 * i, col] = sign * val
                mat[2 * i + 1, col] = sign * w * der
    return mat


def _det(mat):
    """Determinant by Gaussian elimination with scaled partial pivoting and *no* singularity
    tolerance.  (mpmath.det returns 0 as soon as a pivot is below eps * ||A||, which happens here
    whenever one column is J_m deep in its evanescent range, e.g. 1e-20 next to Y ~ 1e20.)
    Pivot rows are chosen on row-equilibrated magnitudes; the arithmetic uses the raw entries, so
    the result is the analytic determinant of the matrix itself."""
    n = mat.rows
    a = [[mat[i, j] for j in range(n)] for i in range(n)]
    scale = [max(abs(x) for x in row) for row in a]
    if any(s == 0 for s in scale):
        return mpmath.mpc(0)
    det = mpmath.mpc(1)
    for j in range(n):
        p = max(range(j, n), key=lambda i: abs(a[i][j]) / scale[i])
        if a[p][j] == 0:
            return mpmath.mpc(0)
        if p != j:
            a[j], a[p] = a[p], a[j]
            scale[j], scale[p] = scale[p], scale[j]
            det = -det
        piv = a[j][j]
        det *= piv
        for i in range(j + 1, n):
            f = a[i][j] / piv
            if f:
                row_i, row_j = a[i], a[j]
                for c in range(j + 1, n):
                    row_i[c] -= f * row_j[c]
    return det


def char_det(radii, indices, n_out, pol, m, k):
    """The (2N x 2N) boundary-matching determinant at complex k (1/um); zero at a resonance."""
    k = mpmath.mpmathify(k)
    return _det(_matrix(radii, indices, n_out, pol, m, k))


def real_scan_function(radii, indices, n_out, pol, m, k):
    """Real-valued companion of :func:`char_det` for real k: the outgoing H^(1) outside is replaced
    by Y (the solution that decays outward where the outside field is evanescent).  Its sign
    changes along the real axis sit next to the high-Q resonances; only for seeding."""
    k = mpmath.mpf(k)
    return mpmath.re(_det(_matrix(radii, indices, n_out, pol, m, k, outside_kind="Y")))


def newton_step(radii, indices, n_out, pol, m, k, dps=DEFAULT_DPS, rel_h=None):
    """The Newton correction delta = -f(k)/f'(k) of the determinant at k (f' by a central
    difference).  For a simple root k0 close to k, k + delta ~ k0 to second order."""
    with mpmath.workdps(dps):
        k = mpmath.mpc(k)
        h = abs(k) * (mpmath.mpf(10) ** (-(dps // 2)) if rel_h is None else mpmath.mpf(rel_h))
        f0 = char_det(radii, indices, n_out, pol, m, k)
        fp = char_det(radii, indices, n_out, pol, m, k + h)
        fm = char_det(radii, indices, n_out, pol, m, k - h)
        if fp == fm:
            raise ValueError(f"determinant flat at k = {k}: cannot take a Newton step")
        return -f0 / ((fp - fm) / (2 * h))


def find_root(radii, indices, n_out, pol, m, k_guess, dps=DEFAULT_DPS, solver="secant", check=True):
    """Complex root k (1/um) of :func:`char_det` near ``k_guess``, at ``dps`` digits.

    mpmath.findroot (secant by default, or 'muller') iterates until the step is below
    10^-(dps-3) |k|.  With ``check`` a final Newton step on the determinant must be below
    10^-(dps-6) |k|, otherwise ValueError (no silent non-convergence).
    """
    with mpmath.workdps(dps):
        k0 = mpmath.mpc(k_guess)
        f = lambda k: char_det(radii, indices, n_out, pol, m, k)  # noqa: E731
        tol = mpmath.mpf(10) ** (-(dps - 3))
        if solver == "secant":
            start = (k0, k0 * (1 + mpmath.mpf("1e-9")))
        elif solver == "muller":
            start = (k0, k0 * (1 + mpmath.mpf("1e-9")), k0 * (1 - mpmath.mpf("1e-9")))
        else:
            start = k0
        root = mpmath.findroot(f, start, solver=solver, tol=tol, verify=False, maxsteps=60)
        root = mpmath.mpc(root)
        if check:
            delta = newton_step(radii, indices, n_out, pol, m, root, dps=dps)
            if abs(delta) > mpmath.mpf(10) ** (-(dps - 6)) * abs(root):
                raise ValueError(
                    f"find_root did not converge: final Newton step {mpmath.nstr(delta, 5)} at k = {root}"
                )
            # independent of the determinant: the layer-by-layer field solution must also satisfy
            # the last matching condition
            _, mismatch = field_coefficients(radii, indices, n_out, pol, m, root)
            if mismatch > mpmath.mpf(10) ** (-(dps // 2)):
                raise ValueError(f"find_root: field mismatch {mpmath.nstr(mismatch, 5)} at k = {root}")
        return root


def wavelength_nm(k):
    return 2 * mpmath.pi / mpmath.re(k) * 1000


def q_factor(k):
    return mpmath.re(k) / (2 * abs(mpmath.im(k)))


# --------------------------------------------------------------------------- fields
def field_coefficients(radii, indices, n_out, pol, m, k):
    """Coefficients [(A_0,), (A_1, B_1), ..., (C,)] of the radial function with A_0 = 1.

    Each shell's (A, B) solves the two matching conditions at its inner radius (a 2x2 system);
    C follows from continuity of u at the outer radius.  Also returns the relative mismatch of the
    second (derivative) condition at the outer radius, which vanishes at a root.
    """
    _check_pol(pol)
    k = mpmath.mpmathify(k)
    n_layers = len(radii)
    ns = _mp_indices(indices, n_out)
    coeffs = [(mpmath.mpf(1),)]

    def value_and_flux(j, coef, r):
        n = ns[j]
        z = k * n * r
        val = 0
        der = 0
        for c, kind in zip(coef, _layer_kinds(j, n_layers)):
            zv, zd = _bessel_and_derivative(kind, m, z)
            val += c * zv
            der += c * zd
        return val, _weight(pol, n) * der

    for j in range(1, n_layers):
        r = mpmath.mpf(radii[j - 1])
        u, flux = value_and_flux(j - 1, coeffs[-1], r)
        n = ns[j]
        z = k * n * r
        jv, jd = _bessel_and_derivative("J", m, z)
        yv, yd = _bessel_and_derivative("Y", m, z)
        w = _weight(pol, n)
        a = mpmath.matrix([[jv, yv], [w * jd, w * yd]])
        sol = mpmath.lu_solve(a, mpmath.matrix([u, flux]))
        coeffs.append((sol[0], sol[1]))
    r = mpmath.mpf(radii[-1])
    u, flux = value_and_flux(n_layers - 1, coeffs[-1], r)
    z = k * ns[-1] * r
    hv, hd = _bessel_and_derivative("H", m, z)
    c = u / hv
    flux_out = c * _weight(pol, ns[-1]) * hd
    mismatch = abs(flux_out - flux) / max(abs(flux), abs(flux_out))
    coeffs.append((c,))
    return coeffs, mismatch


def _layer_of(radii, r):
    for j, rj in enumerate(radii):
        if r <= rj:
            return j
    return len(radii)


def radial_function(radii, indices, n_out, pol, m, k, coeffs, r, layer=None, derivative=True):
    """(R(r), dR/dr) for the coefficients of :func:`field_coefficients` (R alone if not
    ``derivative``)."""
    n_layers = len(radii)
    j = _layer_of(radii, r) if layer is None else layer
    n = _mp_indices(indices, n_out)[j]
    z = k * n * r
    if not derivative:
        return sum(c * _bessel(kind, m, z) for c, kind in zip(coeffs[j], _layer_kinds(j, n_layers)))
    val = 0
    der = 0
    for c, kind in zip(coeffs[j], _layer_kinds(j, n_layers)):
        zv, zd = _bessel_and_derivative(kind, m, z)
        val += c * zv
        der += c * zd
    return val, der * k * n


def _layer_bounds(radii, j, m, k_re, n_out):
    inner = mpmath.mpf(0) if j == 0 else mpmath.mpf(radii[j - 1])
    if j < len(radii):
        return inner, mpmath.mpf(radii[j])
    turning = m / (mpmath.mpf(n_out) * k_re)
    lam = 2 * mpmath.pi / k_re
    return inner, max(turning, inner) + lam


def _breakpoints(a, b, caustic, h, grow=False):
    """Subdivision of [a, b] into intervals of length <= h (half a local wavelength).  With
    ``grow`` (the core, whose field only decays inward of its caustic) the widths double going
    inward from the caustic, up to 8 h, since the field there is exponentially small."""
    if not grow or caustic <= a + h:
        n_int = max(1, int(mpmath.ceil((b - a) / h)))
        return [a + (b - a) * i / n_int for i in range(n_int + 1)]
    osc_start = min(caustic, b)
    pts = {a, b}
    x, w = osc_start, h
    while x > a:
        pts.add(x)
        x -= w
        w = min(2 * w, 8 * h)
    n_osc = int(mpmath.ceil((b - osc_start) / h)) if b > osc_start else 0
    for i in range(n_osc):
        pts.add(osc_start + (b - osc_start) * i / n_osc)
    return sorted(pts)


def field_energy_fractions(radii, indices, n_out, pol, m, k, dps=15, maxdegree=2, waves_per_interval=1):
    """Fraction of the electric energy in each region (dict name -> fraction, summing to 1).

    Ez: weight n^2 |R|^2 r; Hz: weight (|R'|^2 + m^2 |R|^2 / r^2) / n^2 * r, integrated with
    mpmath.quad (Gauss-Legendre, degrees 1..maxdegree, on sub-intervals of
    ``waves_per_interval`` local wavelengths).  The outside is
    integrated from the outer radius to the outer turning point m / (n_out Re k) plus one
    wavelength, so the fractions are only meaningful for modes whose outside field is small.
    """
    _check_pol(pol)
    with mpmath.workdps(max(dps, 15)):
        k = mpmath.mpc(k)
        coeffs, _ = field_coefficients(radii, indices, n_out, pol, m, k)
    with mpmath.workdps(dps):
        k = mpmath.mpc(k)
        coeffs = [tuple(mpmath.mpc(c) for c in cs) for cs in coeffs]
        ns = _mp_indices(indices, n_out)
        k_re = mpmath.re(k)
        energies = []
        for j in range(len(radii) + 1):
            n = ns[j]
            a, b = _layer_bounds(radii, j, m, k_re, n_out)
            caustic = m / (mpmath.re(n) * k_re)
            h = mpmath.pi / (mpmath.re(n) * k_re)  # half a local wavelength

            def integrand(r, j=j, n=n):
                if pol == "Ez":
                    val = radial_function(radii, indices, n_out, pol, m, k, coeffs, r, layer=j, derivative=False)
                    return abs(n) ** 2 * abs(val) ** 2 * r
                val, der = radial_function(radii, indices, n_out, pol, m, k, coeffs, r, layer=j)
                if r == 0:
                    return mpmath.mpf(0)
                return (abs(der) ** 2 + (m / r) ** 2 * abs(val) ** 2) / abs(n) ** 2 * r

            pts = _breakpoints(a, b, caustic, 2 * h * waves_per_interval, grow=(j == 0))
            energies.append(mpmath.quad(integrand, pts, method="gauss-legendre", maxdegree=maxdegree))
        total = sum(energies)
        return {name: float(e / total) for name, e in zip(region_names(len(radii)), energies)}


def radial_maxima_count(radii, indices, n_out, pol, m, k, layer, dps=15, points_per_half_wave=12):
    """Number of maxima of |R| strictly inside layer ``layer`` (index, 0 = core; or a region name).

    Found as the +/- sign changes of d|R|^2/dr = 2 Re(R' conj(R)) on a grid of
    ``points_per_half_wave`` points per half local wavelength on the oscillating side of the layer's
    caustic (coarser on the evanescent side, where R has no extrema).
    """
    if isinstance(layer, str):
        layer = region_names(len(radii)).index(layer)
    with mpmath.workdps(max(dps, 15)):
        k = mpmath.mpc(k)
        coeffs, _ = field_coefficients(radii, indices, n_out, pol, m, k)
    with mpmath.workdps(dps):
        k = mpmath.mpc(k)
        coeffs = [tuple(mpmath.mpc(c) for c in cs) for cs in coeffs]
        n = _mp_indices(indices, n_out)[layer]
        k_re = mpmath.re(k)
        a, b = _layer_bounds(radii, layer, m, k_re, n_out)
        caustic = m / (mpmath.re(n) * k_re)
        h = mpmath.pi / (mpmath.re(n) * k_re)
        grid = []
        for p0, p1 in zip(*(lambda p: (p[:-1], p[1:]))(_breakpoints(a, b, caustic, h, grow=(layer == 0)))):
            steps = points_per_half_wave if p0 >= caustic - h else 2
            grid.extend(p0 + (p1 - p0) * i / steps for i in range(steps))
        grid.append(b)
        grid = [r for r in grid if r > 0]
        slopes = []
        for r in grid:
            val, der = radial_function(radii, indices, n_out, pol, m, k, coeffs, r, layer=layer)
            slopes.append(mpmath.re(der * mpmath.conj(val)))
        return sum(1 for s0, s1 in zip(slopes[:-1], slopes[1:]) if s0 > 0 and s1 <= 0)
