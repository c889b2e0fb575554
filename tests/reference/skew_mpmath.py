"""Independent high-precision reference for *skew* resonances of a layered cylinder
(nonzero axial wavevector beta), written from the physics, not from the wgmfem code.

Problem
-------
Layers ``j = 0 .. N-1`` with outer radii ``r_j`` (um) and indices ``n_j`` (complex allowed,
``n + i kappa``); an infinite outer medium ``n_out``.  Fields ~ exp(i m phi + i beta z - i omega t),
units with Z0 = 1 (H stands for Z0 H), vacuum wavenumber ``k`` (1/um), ``beta`` real (1/um).
In region j the transverse wavenumber is ``kt_j = sqrt(n_j^2 k^2 - beta^2)`` (principal root).
The axial fields solve Bessel's equation of order m in ``kt r``:

* core:    Ez = A J_m(kt r),                 Hz = B J_m(kt r)
* shell:   Ez = a J_m(kt r) + b Y_m(kt r),   Hz = c J_m(kt r) + d Y_m(kt r)
* outside: Ez = C H1_m(kt r),                Hz = D H1_m(kt r)           (outgoing)

and the azimuthal components follow from curl E = i k H, curl H = -i k n^2 E:

    E_phi = -(i k / kt^2) dHz/dr - (beta m / (kt^2 r)) Ez
    H_phi = (i k n^2 / kt^2) dEz/dr - (beta m / (kt^2 r)) Hz

Formulation
-----------
The unknowns are the coefficients of *every* region (2 + 4 (N-1) + 2 = 4N of them; columns
ordered per region as Ez-J, Ez-Y, Hz-J, Hz-Y, with H1 in place of J outside); each interface
gives four rows, continuity of (Ez, Hz, E_phi, H_phi), written as "inner minus outer".  The
resonances are the complex k at which the 4N x 4N determinant vanishes (Im k < 0: leaky or
absorbing).  No transfer-matrix / impedance propagation is used.  At beta = 0 the E_phi row
of an Ez column and the H_phi row of an Hz column vanish, and the system splits into the Ez
problem (Ez, dEz/dr continuous) and the Hz problem (Hz, (1/n^2) dHz/dr continuous).

Scaling: the entries span hundreds of decades at m ~ 600 (J_600 ~ 1e-59 next to Y_600 ~ 1e55).
mpmath numbers have unbounded exponents, so nothing overflows, but to keep the determinant
O(1) the matrix is equilibrated by *constant* factors computed once at the seed: each column is
divided by its largest entry's modulus, then each row by its largest modulus.  Constant (k
independent) factors do not move or add roots, unlike dividing by J_m(kt r) itself, which would
add poles at the zeros of J_m.  The determinant is then evaluated by our own Gaussian elimination
with scaled partial pivoting and no singularity threshold (mpmath.det returns 0 for nearly
singular matrices, which is exactly where we need it).

:func:`skew_root` polishes a root from a complex seed with mpmath.findroot (secant or Muller)
and, with ``verify``, checks it: |det(root)| must be tiny relative to |det| on a small circle
around the root, and the root recomputed with 20 more digits must agree.
Slow (tenths of a second per determinant at m = 600); meant for tests only.
"""

from __future__ import annotations

import mpmath

__all__ = [
    "skew_matrix",
    "skew_det",
    "skew_root",
    "continue_root",
    "wavelength_nm",
    "q_factor",
]


def _mp(x):
    return mpmath.mpc(x) if isinstance(x, complex) or isinstance(x, mpmath.mpc) else mpmath.mpf(x)


def _bessel(kind: str, m: int, z):
    """(Z_m(z), Z_m'(z)) for kind 'J', 'Y' or 'H' (H1 = J + iY); Z' = Z_{m-1} - (m/z) Z_m."""
    if kind == "J":
        f = mpmath.besselj
    elif kind == "Y":
        f = mpmath.bessely
    else:

        def f(order, arg):
            return mpmath.besselj(order, arg) + 1j * mpmath.bessely(order, arg)

    zm, zm1 = f(m, z), f(m - 1, z)
    return zm, zm1 - (m / z) * zm


def _kinds(region: int, n_layers: int) -> tuple[str, ...]:
    """Radial functions of a region: J in the core, (J, Y) in a shell, H1 outside."""
    if region == 0:
        return ("J",)
    if region == n_layers:
        return ("H",)
    return ("J", "Y")


def _columns(n_layers: int) -> list[list[tuple[int, str, str]]]:
    """Per region, its columns as (column index, field 'Ez'/'Hz', Bessel kind)."""
    cols, c = [], 0
    for reg in range(n_layers + 1):
        here = []
        for field in ("Ez", "Hz"):
            for kind in _kinds(reg, n_layers):
                here.append((c, field, kind))
                c += 1
        cols.append(here)
    return cols


def skew_matrix(radii, indices, n_out, m, k, beta):
    """The raw 4N x 4N boundary-matching matrix at complex k (1/um) and axial beta (1/um).

    Row 4i+0: Ez, 4i+1: Hz, 4i+2: E_phi, 4i+3: H_phi continuity at r_i (inner minus outer).
    """
    n_layers = len(radii)
    if len(indices) != n_layers:
        raise ValueError("one index per layer")
    k, beta, m = mpmath.mpmathify(k), mpmath.mpmathify(beta), int(m)
    ns = [_mp(n) for n in indices] + [_mp(n_out)]
    rs = [mpmath.mpf(r) for r in radii]
    cols = _columns(n_layers)
    size = 4 * n_layers
    mat = mpmath.matrix(size, size)
    for i, r in enumerate(rs):  # interface i between region i (inside) and i + 1 (outside)
        for reg, sign in ((i, 1), (i + 1, -1)):
            n = ns[reg]
            kt2 = n * n * k * k - beta * beta
            kt = mpmath.sqrt(kt2)
            values = {kind: _bessel(kind, m, kt * r) for kind in _kinds(reg, n_layers)}
            for col, field, kind in cols[reg]:
                z, dz = values[kind]  # Z(kt r), Z'(kt r); d/dr Z(kt r) = kt Z'
                cross = -(beta * m) / (kt2 * r) * z  # the -(beta m / (kt^2 r)) terms
                if field == "Ez":
                    mat[4 * i + 0, col] = sign * z
                    mat[4 * i + 2, col] = sign * cross
                    mat[4 * i + 3, col] = sign * (1j * k * n * n / kt) * dz
                else:
                    mat[4 * i + 1, col] = sign * z
                    mat[4 * i + 2, col] = sign * (-1j * k / kt) * dz
                    mat[4 * i + 3, col] = sign * cross
    return mat


def _scales(mat):
    """Constant column and row factors (moduli at this matrix) that make every row and column
    have its largest entry of modulus 1."""
    n = mat.rows
    col = [1 / max(abs(mat[i, j]) for i in range(n)) for j in range(n)]
    row = [1 / max(abs(mat[i, j]) * col[j] for j in range(n)) for i in range(n)]
    return row, col


def _det(a):
    """Determinant by Gaussian elimination with scaled partial pivoting and no singularity
    threshold (the analytic determinant of the matrix itself)."""
    n = len(a)
    a = [list(row) for row in a]
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
                for c in range(j + 1, n):
                    a[i][c] -= f * a[j][c]
    return det


def skew_det(radii, indices, n_out, m, k, beta, scales=None):
    """Determinant of the (equilibrated) matrix at k.  ``scales`` = (row, col) constant factors,
    e.g. ``_scales(skew_matrix(..., k_seed, ...))``; without them, the raw determinant."""
    mat = skew_matrix(radii, indices, n_out, m, k, beta)
    n = mat.rows
    if scales is None:
        return _det([[mat[i, j] for j in range(n)] for i in range(n)])
    row, col = scales
    return _det([[mat[i, j] * row[i] * col[j] for j in range(n)] for i in range(n)])


def _polish(radii, indices, n_out, m, beta, k_seed, dps, solver):
    with mpmath.workdps(dps):
        k0 = mpmath.mpc(k_seed)
        scales = _scales(skew_matrix(radii, indices, n_out, m, k0, beta))

        def f(k):
            return skew_det(radii, indices, n_out, m, k, beta, scales)

        h = mpmath.mpf("1e-9") * abs(k0)
        start = (k0, k0 + h) if solver == "secant" else (k0, k0 + h, k0 - h)
        tol = mpmath.mpf(10) ** (-(dps - 3))
        root = mpmath.mpc(mpmath.findroot(f, start, solver=solver, tol=tol, verify=False, maxsteps=80))
        return root, f, scales


def skew_root(radii_um, indices, outside_index, m, beta_per_um, k_seed, dps=50, solver="secant", verify=True):
    """Complex resonance k (1/um, Im k < 0 for loss) of the skew problem near ``k_seed``.

    ``verify``: (1) |det(root)| < 10^-(dps/2) min |det| on 8 points at distance 1e-8 |k| (a
    simple, isolated zero, not a stalled iteration); (2) the root polished again at dps + 20
    (from the root, fresh scalings) agrees to 10^-(dps-10) |k|.  Raises ValueError otherwise.
    Returns the root as an mpc (at ``dps`` digits).
    """
    radii, ns = list(radii_um), list(indices)
    root, f, _ = _polish(radii, ns, outside_index, m, beta_per_um, k_seed, dps, solver)
    if verify:
        with mpmath.workdps(dps):
            d0 = abs(f(root))
            rho = mpmath.mpf("1e-8") * abs(root)
            ring = min(abs(f(root + rho * mpmath.expjpi(mpmath.mpf(q) / 4))) for q in range(8))
            if not d0 < mpmath.mpf(10) ** (-(dps // 2)) * ring:
                raise ValueError(f"skew_root: |det| {mpmath.nstr(d0, 3)} vs {mpmath.nstr(ring, 3)} nearby at k = {root}")
        again, _, _ = _polish(radii, ns, outside_index, m, beta_per_um, root, dps + 20, solver)
        with mpmath.workdps(dps + 20):
            if abs(again - root) > mpmath.mpf(10) ** (-(dps - 10)) * abs(root):
                raise ValueError(f"skew_root: unstable under dps + 20: {root} vs {again}")
    with mpmath.workdps(dps):
        return +root


def continue_root(radii_um, indices, outside_index, m, k0, betas, dps=40, solver="secant"):
    """Follow the root k0 (at betas[0], usually 0) through the increasing ``betas``, predicting each
    step by extrapolation in beta^2 of k^2 (linear from two points, quadratic from three) and
    polishing with :func:`skew_root` (unverified on the way).  Returns the list of roots."""
    with mpmath.workdps(dps):
        roots = [mpmath.mpc(k0)]
        b2 = [mpmath.mpf(b) ** 2 for b in betas]
        for i in range(1, len(betas)):
            x, ys = b2[i], [r * r for r in roots]
            if i == 1:
                # k^2 ~ k0^2 + alpha beta^2 with alpha ~ 1 / n^2 of the guiding (highest-index) layer
                n_max = max(mpmath.re(_mp(n)) for n in indices)
                guess2 = ys[0] + (x - b2[0]) / n_max**2
            elif i == 2:
                guess2 = ys[1] + (ys[1] - ys[0]) * (x - b2[1]) / (b2[1] - b2[0])
            else:
                x0, x1, x2 = b2[i - 3 : i]
                y0, y1, y2 = ys[i - 3 : i]
                guess2 = (
                    y0 * (x - x1) * (x - x2) / ((x0 - x1) * (x0 - x2))
                    + y1 * (x - x0) * (x - x2) / ((x1 - x0) * (x1 - x2))
                    + y2 * (x - x0) * (x - x1) / ((x2 - x0) * (x2 - x1))
                )
            guess = mpmath.sqrt(guess2)
            roots.append(skew_root(radii_um, indices, outside_index, m, betas[i], guess, dps=dps, solver=solver, verify=False))
    return roots


def wavelength_nm(k):
    return 2 * mpmath.pi / mpmath.re(k) * 1000


def q_factor(k):
    return mpmath.re(k) / (2 * abs(mpmath.im(k)))
