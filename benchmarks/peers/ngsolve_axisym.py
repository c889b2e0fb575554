"""An independent NGSolve peer of the axisymmetric vector FEM, side by side with wgmfem on a dielectric sphere.

Run: ``python benchmarks/peers/ngsolve_axisym.py [--quick] [--repeat N] [--verbose] [--mirror-check]``
(needs ``pip install ".[bench]"`` for NGSolve; exits 2 with a message without it). ``--quick``: two
cases, each code's default setting; ``--repeat N``: the fastest of N runs per row (on a shared
machine); ``--verbose``: each run's time split, window and family check; ``--mirror-check``: only
the check of the equatorial walls (run at the end of the full table too).

Lengths in um, wavenumbers k = 2 pi / lambda in 1/um, time dependence exp(-i omega t),
Q = Re k / (-2 Im k). The problem: the silica sphere (n = 1.45, radius 10 um) in air (and in an
outside index 1.2 for l = 100, where Q ~ 1e5 can be resolved), the p = 1 fundamental l = m
(q = 0) resonances, TE and TM, against the exact Mie resonance (``wgmfem.exact.sphere``).

The model is written from the weak form of docs/theory.md section 17, not from wgmfem's code
(the NGSolve child imports from wgmfem only ``wgmfem.exact.sphere``, for the shift and the
reference). A field E(r, z) exp(i m phi) on the (r, z) half-plane:
E_t = (E_r, E_z) in NGSolve's ``HCurl`` and v = -i r E_phi in ``H1`` (coordinates x = r, y = z),
with F, w the test functions (the field of order -m, so every coefficient is real outside the PML):

    A = int [ (m E_z - d_z v)(m F_z - d_z w) / (L_r r) + (d_r v - m E_r)(d_r w - m F_r) / (L_z r)
              + r curl_t(E) curl_t(F) / L_phi ] dr dz
    B = int n^2 [ L_r E_r F_r + L_z E_z F_z + L_phi v w / r^2 ] r dr dz,      A x = k^2 B x.

"Order p" below is the degree of both spaces: ``H1(order=p)`` for v and the first-kind Nedelec
space of degree p for E_t, ``HCurl(order=p, type1=True)`` (15 unknowns per triangle at p = 3, curl
of degree p - 1), which holds the gradients of ``H1(order=p)``: the gradient fields E_t = grad phi,
v = m phi are then exactly the discrete null space k^2 = 0, far from the shift. (NGSolve's default
``HCurl(order=p - 1)`` holds the same gradients but its curl is one degree lower: at p = 3 the
wavelength error fell like h^4 instead of h^6, 1e-5 on the l = 50 sphere at 12 points per
wavelength against 1e-7; an ``HCurl(order=p)`` beside ``H1(order=p)`` is not a balanced pair and is
not used.)

Window (section 17): the rectangle r_min <= r <= r_end, 0 <= z <= z_max, the sphere's quarter
disk inside it, meshed by Netgen's OCC kernel with the sphere's arc curved to the element order
(``mesh.Curve``).

* r_min: where the order-l radial function has fallen by e^-10 inside the caustic (Debye:
  nu (artanh s - s) = 10, s = sqrt(1 - (n k r / nu)^2), nu = l + 1/2);
* z_max: where the angular factor exp(-l psi^2 / 2) at the sphere's surface has fallen by e^-10,
  z_max = a sin(psi) with psi = sqrt(20 / l) (plus ``Z_MARGIN``, see there);
* the equator z = 0 is a mirror of the mode's parity: an l = m TE mode has its electric field
  along z at the equator (E_z even, E_r and E_phi odd in z), so an electric wall (tangential
  E_r = 0 and v = 0: Dirichlet in both spaces); TM gets the magnetic wall (natural: nothing);
* all other sides are electric walls (Dirichlet in both spaces).

PML (section 11): radial, in the cylindrical r of the half-plane. It starts one outside
wavelength beyond the larger of the sphere's radius and the outer turning point m / (n_out k)
and is two outside wavelengths thick; with xi = (r - r_start) / d,
s = 1 + i sigma0 xi^2, r~ = r + i sigma0 d xi^3 / 3, and the material
(L_r, L_phi, L_z) = (r~ / (r s), r s / r~, s r~ / r) (1 outside the layer). sigma0 is the smallest
value whose WKB round-trip reflection for order m, exp(-2 Im int k_r(r~) s dr) with
k_r = sqrt(k^2 n_out^2 - m^2 / r~^2), is 1e-6. The layer is meshed in strips whose element size
is the outside size divided by |s| at the strip's outer edge.

Element size: order * lambda / (n * ppw) per region (n of the region; the PML as above), the same
rule as wgmfem's ``points_per_wavelength``; the rows of the table give order and ppw of both codes.

Eigensolver (as ``ngsolve_model.py``'s ``arpack`` path): the shifted form A - sigma B with
sigma = k_exact^2 (complex), statically condensed (only the element-boundary unknowns are
factored), NGSolve's ``sparsecholesky`` (LDL^T of the complex symmetric matrix), and scipy's
ARPACK shift-invert Arnoldi on (A - sigma B)^-1 B. Of the eigenpairs the one nearest the shift
with more than half its electric energy (outside the PML) inside the sphere is the mode; its
TE share (E_z's part of the meridional electric energy in the sphere) is printed as a check of
the family.

Every code/case/setting runs in its own subprocess, so the peak memory (max RSS) is its own;
wgmfem's with an empty mesh cache, so it meshes as NGSolve does. wgmfem's total time includes
its labelling of every eigenpair from the field (and the exact resonance of each label); the
column "mesh+assembly+eigensolve" is the part both codes do.
Errors: |lambda / lambda_exact - 1| and |Q / Q_exact - 1|, the latter only where the exact Q is
below 1e8 (above it the loss, Im k / Re k < 5e-9, is too close to a double-precision
eigensolver's round-off to be resolved: "unresolved").
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time

RADIUS_UM = 10.0
INDEX = 1.45
#: e-folds of the field amplitude at the window's walls (the eigenvalue moves by ~ e^-2 decay)
DECAY = 10.0
#: extra height (fraction of z_max) above the e^-10 height: outside the sphere, at larger radii,
#: the field decays more slowly with z than on the sphere's surface (section 17). Measured on
#: l = 50 TE in air (order 3, 12 points): 0.3 took the Q error from 1.3e-5 to 3e-6 and moved the
#: wavelength by 4e-8; kept 0, the window of the docs
Z_MARGIN = 0.0
#: radial PML: gap before it and thickness, in outside wavelengths; round-trip reflection (WKB)
PML_GAP = 1.0
PML_WIDTH = 2.0
PML_REFLECTION = 1e-6
#: strips of the PML with their own element size (outside size / |s| at the strip's outer edge)
PML_STRIPS = 8
#: the exact Q above which no code's Q is compared (double-precision eigensolver)
Q_RESOLVED_MAX = 1e8
#: (l = m, outside index, polarization)
CASES = [(50, 1.0, "TE"), (50, 1.0, "TM"), (100, 1.0, "TE"), (100, 1.0, "TM"), (100, 1.2, "TE"), (100, 1.2, "TM")]
QUICK_CASES = [(50, 1.0, "TE"), (100, 1.2, "TM")]
#: (code, order, points per wavelength): each code's order 3 at 12 and 16 points (wgmfem's default is
#: 3, 12; it has no degree above 3), and NGSolve's degree 4 at 12 points
SETTINGS = [("wgmfem", 3, 12.0), ("wgmfem", 3, 16.0), ("ngsolve", 3, 12.0), ("ngsolve", 3, 16.0), ("ngsolve", 4, 12.0)]
QUICK_SETTINGS = [("wgmfem", 3, 12.0), ("ngsolve", 3, 12.0)]
THREADS = 2
#: extra quadrature degree beyond NGSolve's default (the coefficients 1 / r, r and the PML's are not
#: polynomials); measured on l = 100 TM, n_out 1.2, order 3: 2 and 4 moved nothing at the digits printed
BONUS_INTORDER = 0


# ----------------------------------------------------------------------------- window and PML


def caustic_cut_um(l: int, k: float, index: float, decay: float = DECAY) -> float:  # noqa: E741
    """Radius (um) inside the caustic where the order-l radial function has fallen by e^-decay (Debye)."""
    nu = l + 0.5
    lo, hi = 0.0, 1.0  # s in (0, 1); nu (artanh s - s) grows with s
    for _ in range(80):
        s = 0.5 * (lo + hi)
        lo, hi = (s, hi) if nu * (math.atanh(s) - s) < decay else (lo, s)
    return math.sqrt(1.0 - s * s) * nu / (index * k)


def window_height_um(l: int, radius_um: float, decay: float = DECAY) -> float:  # noqa: E741
    """Height (um) above the equator where exp(-l psi^2 / 2) on the sphere has fallen by e^-decay."""
    psi = math.sqrt(2.0 * decay / l)
    return min(radius_um * math.sin(psi) * (1.0 + Z_MARGIN), 0.95 * radius_um)


def wkb_reflection(sigma0: float, k: float, n_out: float, m: int, start_um: float, width_um: float) -> float:
    """Round-trip reflection exp(-2 Im int k_r(r~) s dr) of the radial PML for order m (WKB)."""
    import numpy as np

    xi = np.linspace(0.0, 1.0, 2001)
    r = start_um + width_um * xi
    s = 1.0 + 1j * sigma0 * xi**2
    rt = r + 1j * sigma0 * width_um * xi**3 / 3.0
    kr = np.sqrt((k * n_out) ** 2 - (m / rt) ** 2 + 0j)
    kr = np.where(kr.imag < 0, -kr, kr)  # outgoing / decaying branch
    f = kr * s
    integral = np.sum(0.5 * (f[1:] + f[:-1]) * np.diff(r))
    return float(np.exp(-2.0 * integral.imag))


def pml_for(k: float, n_out: float, m: int, radius_um: float) -> dict:
    """The radial PML (start, width in um; sigma0; power 2) for order m at wavenumber k (1/um)."""
    lam_out = 2 * math.pi / (k * n_out)
    start = max(radius_um, m / (n_out * k)) + PML_GAP * lam_out
    width = PML_WIDTH * lam_out
    lo, hi = 0.0, 1.0
    while wkb_reflection(hi, k, n_out, m, start, width) > PML_REFLECTION:
        hi *= 2.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if wkb_reflection(mid, k, n_out, m, start, width) > PML_REFLECTION else (lo, mid)
    return dict(start=start, width=width, sigma0=hi)


def window_for(l: int, k: float, n_out: float) -> dict:  # noqa: E741
    """The (r, z) window (um) of the l = m fundamental at wavenumber k (1/um), with its PML."""
    pml = pml_for(k, n_out, l, RADIUS_UM)
    return dict(r_min=caustic_cut_um(l, k, INDEX), r_end=pml["start"] + pml["width"],
                z_max=window_height_um(l, RADIUS_UM), pml=pml)


# ----------------------------------------------------------------------------- mesh


def build_mesh(window: dict, k: float, n_out: float, order: int, ppw: float):
    """Netgen mesh of the window: regions body / outside / pml, boundaries equator / wall; curved."""
    from netgen.occ import Circle, Glue, OCCGeometry, Rectangle
    from ngsolve import Mesh

    lam = 2 * math.pi / k
    h_body, h_out = order * lam / (INDEX * ppw), order * lam / (n_out * ppw)
    r0, r1, z1 = window["r_min"], window["r_end"], window["z_max"]
    pml = window["pml"]
    rect = Rectangle(r1 - r0, z1).Face().Move((r0, 0, 0))
    disk = Circle((0, 0), RADIUS_UM).Face()
    inner = Rectangle(pml["start"] - r0, z1).Face().Move((r0, 0, 0))
    body = rect * disk
    body.faces.name, body.faces.maxh = "body", h_body
    outside = inner - disk
    outside.faces.name, outside.faces.maxh = "outside", h_out
    faces = [body, outside]
    edges = [pml["start"] + pml["width"] * i / PML_STRIPS for i in range(PML_STRIPS + 1)]
    for i in range(PML_STRIPS):
        strip = Rectangle(edges[i + 1] - edges[i], z1).Face().Move((edges[i], 0, 0))
        xi = (i + 1) / PML_STRIPS
        strip.faces.name, strip.faces.maxh = "pml", h_out / math.hypot(1.0, pml["sigma0"] * xi**2)
        faces.append(strip)
    shape = Glue(faces)
    tol = 1e-9 * r1
    for e in shape.edges:  # the window's sides only: interfaces keep the default name
        c = e.center
        if abs(c.y) < tol:
            e.name = "equator"
        elif abs(c.y - z1) < tol or abs(c.x - r0) < tol or abs(c.x - r1) < tol:
            e.name = "wall"
    ngmesh = OCCGeometry(shape, dim=2).GenerateMesh(maxh=max(h_body, h_out))
    mesh = Mesh(ngmesh)
    mesh.Curve(order)
    return mesh


# ----------------------------------------------------------------------------- forms


def pml_material(pml: dict):
    """(L_r, L_phi, L_z) coefficient functions of the radial PML (1 before r_start); x is r."""
    from ngsolve import IfPos, x

    xi = IfPos(x - pml["start"], (x - pml["start"]) / pml["width"], 0.0)
    s = 1.0 + 1j * pml["sigma0"] * xi**2
    rt = x + 1j * pml["sigma0"] * pml["width"] * xi**3 / 3.0
    return rt / (x * s), x * s / rt, s * rt / x


def mirror_for(pol: str) -> str:
    """The equatorial wall of an l = m (q = 0) mode: electric for TE (E along z there), magnetic for TM."""
    return "electric" if pol == "TE" else "magnetic"


def space(mesh, order: int, mirror: str):
    """First-kind Nedelec x Lagrange, both of degree ``order``, complex; electric walls Dirichlet in
    both (tangential E_t = 0 and v = 0), the equator too for an ``"electric"`` mirror."""
    from ngsolve import H1, HCurl

    dirichlet = "wall|equator" if mirror == "electric" else "wall"
    return HCurl(mesh, order=order, type1=True, dirichlet=dirichlet, complex=True) * H1(
        mesh, order=order, dirichlet=dirichlet, complex=True)


def forms(fes, mesh, m: int, n_out: float, pml: dict, sigma: complex):
    """The condensed shifted form A - sigma B and the mass form B (section 17's weak form)."""
    from ngsolve import BilinearForm, curl, dx, grad, x

    (E, v), (F, w) = fes.TnT()
    l_r, l_phi, l_z = pml_material(pml)
    r = x
    n2 = mesh.MaterialCF({"body": INDEX**2, "outside": n_out**2, "pml": n_out**2})
    gv, gw = grad(v), grad(w)
    stiff = ((m * E[1] - gv[1]) * (m * F[1] - gw[1]) / (l_r * r)
             + (gv[0] - m * E[0]) * (gw[0] - m * F[0]) / (l_z * r)
             + r * curl(E) * curl(F) / l_phi)
    mass = n2 * (l_r * E[0] * F[0] + l_z * E[1] * F[1] + l_phi * v * w / (r * r)) * r
    shifted = BilinearForm(fes, symmetric=True, condense=True)
    quad = dx(bonus_intorder=BONUS_INTORDER)
    shifted += (stiff - sigma * mass) * quad
    B = BilinearForm(fes, symmetric=True)
    B += mass * quad
    return shifted, B


# ----------------------------------------------------------------------------- eigensolver


def shift_invert(fes, shifted, B, sigma: complex, nev: int):
    """Eigenpairs (k^2, vectors over all dofs) of A x = k^2 B x nearest sigma: condensation,
    NGSolve's sparse Cholesky (LDL^T), scipy ARPACK on (A - sigma B)^-1 B."""
    import numpy as np
    import scipy.sparse.linalg as spla
    from ngsolve import IdentityMatrix, TaskManager
    from threadpoolctl import threadpool_limits

    with TaskManager():
        shifted.Assemble()
        B.Assemble()
    t_assembled = time.perf_counter()
    with TaskManager():
        inv_c = shifted.mat.Inverse(fes.FreeDofs(True), inverse="sparsecholesky")
    ext = IdentityMatrix(fes.ndof, complex=True) + shifted.harmonic_extension
    ext_t = IdentityMatrix(fes.ndof, complex=True) + shifted.harmonic_extension_trans
    inv = ext @ inv_c @ ext_t + shifted.inner_solve
    free = np.array(list(fes.FreeDofs()), dtype=bool)
    xv, yv, bv = inv.CreateColVector(), inv.CreateColVector(), inv.CreateColVector()

    def op(vec):
        xv.FV().NumPy()[:] = 0
        xv.FV().NumPy()[free] = vec
        with TaskManager():
            bv.data = B.mat * xv
            yv.data = inv * bv
        return yv.FV().NumPy()[free].copy()

    nfree = int(free.sum())
    lin = spla.LinearOperator((nfree, nfree), matvec=op, dtype=complex)
    with threadpool_limits(limits=1, user_api="blas"):  # ARPACK's small dense steps
        nu, vecs = spla.eigs(lin, k=nev, which="LM", ncv=max(2 * nev + 1, 20))
    full = np.zeros((fes.ndof, nev), dtype=complex)
    full[free] = vecs
    return sigma + 1.0 / nu, full, t_assembled, int(sum(fes.FreeDofs(True)))


def energy_shares(fes, mesh, vec, n_out: float) -> tuple[float, float]:
    """(share of the electric energy outside the PML that lies in the sphere,
    E_z's share of the meridional electric energy in the sphere) of one eigenvector."""
    from ngsolve import Conj, GridFunction, Integrate, dx, x

    gf = GridFunction(fes)
    gf.vec.FV().NumPy()[:] = vec
    E, v = gf.components
    r = x

    def integral(density, region):
        return abs(Integrate(density * dx(definedon=mesh.Materials(region)), mesh))

    total = {}
    for region, n in (("body", INDEX), ("outside", n_out)):
        dens = n * n * (E[0] * Conj(E[0]) + E[1] * Conj(E[1]) + v * Conj(v) / (r * r)) * r
        total[region] = integral(dens, region)
    ez, er = integral(E[1] * Conj(E[1]) * r, "body"), integral(E[0] * Conj(E[0]) * r, "body")
    return total["body"] / (total["body"] + total["outside"]), ez / (ez + er)


# ----------------------------------------------------------------------------- runs (one per subprocess)


def run_ngsolve(l: int, n_out: float, pol: str, order: int, ppw: float, mirror: str | None = None,  # noqa: E741
                nev: int = 2) -> dict:
    """Solve one case with the NGSolve model, shifted to the exact Mie k; ``mirror`` None: that of the mode."""
    import ngsolve
    import numpy as np

    from wgmfem.exact.sphere import sphere_resonance

    ngsolve.SetNumThreads(THREADS)
    exact = sphere_resonance(RADIUS_UM, INDEX, l, 1, pol, n_out)
    t0 = time.perf_counter()
    k0 = exact.k_per_um
    window = window_for(l, k0.real, n_out)
    mesh = build_mesh(window, k0.real, n_out, order, ppw)
    t_mesh = time.perf_counter()
    fes = space(mesh, order, mirror or mirror_for(pol))
    sigma = complex(k0) ** 2
    shifted, B = forms(fes, mesh, l, n_out, window["pml"], sigma)
    lam, vecs, t_asm, n_factored = shift_invert(fes, shifted, B, sigma, nev)
    t_solve = time.perf_counter()
    k = np.sqrt(lam.astype(complex))
    k = np.where(k.real < 0, -k, k)
    best = None
    for j in np.argsort(np.abs(k - k0)):
        body, te = energy_shares(fes, mesh, vecs[:, j], n_out)
        if body >= 0.5:
            best = (complex(k[j]), body, te)
            break
    t_end = time.perf_counter()
    out = dict(unknowns=int(sum(fes.FreeDofs())), factored=n_factored, wall_s=t_end - t0,
               parts=dict(mesh=t_mesh - t0, assemble=t_asm - t_mesh, solve=t_solve - t_asm, label=t_end - t_solve),
               window=dict(r_min=window["r_min"], r_end=window["r_end"], z_max=window["z_max"],
                           sigma0=window["pml"]["sigma0"]))
    if best is not None:
        out.update(k=[best[0].real, best[0].imag], body_share=best[1], te_share=best[2])
    return out


def run_wgmfem(l: int, n_out: float, pol: str, order: int, ppw: float) -> dict:  # noqa: E741
    """Solve one case with wgmfem's ``sphere_modes_fem`` (its default mirror and window)."""
    from wgmfem.axisym.sphere import sphere_modes_fem

    t0 = time.perf_counter()
    study = sphere_modes_fem(RADIUS_UM, INDEX, l, pol=pol, outside_index=n_out, num_modes=2, order=order,
                             points_per_wavelength=ppw)
    wall = time.perf_counter() - t0
    md = study.modes[0]
    return dict(unknowns=study.num_unknowns, wall_s=wall, parts=dict(study.seconds), k=[md.k_per_um.real,
                md.k_per_um.imag], body_share=md.body_fraction, te_share=md.te_share,
                label=f"{md.pol} m={md.m} p={md.p} q={md.q}")


def child(args: list) -> None:
    """Run one (code, l, n_out, pol, order, ppw) and print its record as JSON (last line)."""
    code, l, n_out, pol, order, ppw, *mirror = args  # noqa: E741
    if code == "ngsolve":
        out = run_ngsolve(l, n_out, pol, order, ppw, *mirror)
    else:
        out = run_wgmfem(l, n_out, pol, order, ppw)
    out["rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps(out))


def spawn(args: list) -> dict:
    """Run one child in its own process (own peak RSS), the same thread count for both codes, and
    an empty mesh cache for wgmfem (it meshes every time, as NGSolve does)."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(THREADS)
    with tempfile.TemporaryDirectory(prefix="ngsolve-axisym-") as cache:
        env["WGMFEM_MESH_CACHE"] = cache
        out = subprocess.run([sys.executable, __file__, "--child", json.dumps(args)], capture_output=True,
                             text=True, env=env)
    if out.returncode != 0:
        return dict(error=(out.stderr.strip().splitlines() or ["failed"])[-1])
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- table


def errors(res: dict, l: int, n_out: float, pol: str) -> tuple[str, str, float]:  # noqa: E741
    """(wavelength error, Q error or 'unresolved', exact Q) of one record against exact Mie."""
    from wgmfem.exact.sphere import sphere_resonance

    exact = sphere_resonance(RADIUS_UM, INDEX, l, 1, pol, n_out)
    if "k" not in res:
        return "no mode", "-", exact.Q
    k = complex(*res["k"])
    lam_err = abs(exact.k_per_um.real / k.real - 1)
    if exact.Q >= Q_RESOLVED_MAX:
        return f"{lam_err:.1e}", "unresolved", exact.Q
    q = k.real / (-2 * k.imag)
    return f"{lam_err:.1e}", f"{abs(q / exact.Q - 1):.1e}", exact.Q


HEADER = ("| case | exact Q | code | order, ppw | unknowns | time (s) | of it mesh+assembly+eigensolve (s) "
          "| peak RSS (GB) | lambda error | Q error |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")


def row(case: tuple, code: str, order: int, ppw: float, res: dict) -> str:
    """One markdown row of the side-by-side table."""
    l, n_out, pol = case  # noqa: E741
    name = f"l=m={l} {pol} n_out={n_out:g}"
    if "error" in res:
        return f"| {name} | | {code} | {order}, {ppw:g} | failed: {res['error']} | | | | | |"
    lam_err, q_err, q_exact = errors(res, l, n_out, pol)
    fem_s = sum(res["parts"][part] for part in ("mesh", "assemble", "solve"))
    return (f"| {name} | {q_exact:.3g} | {code} | {order}, {ppw:g} | {res['unknowns']} | {res['wall_s']:.1f} | "
            f"{fem_s:.1f} | {res['rss_gb']:.2f} | {lam_err} | {q_err} |")


def mirror_check(l: int = 50, n_out: float = 1.0) -> None:  # noqa: E741
    """The NGSolve model with each wall on the equator, shifted to each family's l = m resonance:
    the family found (TE share) and its distance from both exact resonances."""
    from wgmfem.exact.sphere import sphere_resonance

    exact = {pol: sphere_resonance(RADIUS_UM, INDEX, l, 1, pol, n_out).k_per_um for pol in ("TE", "TM")}
    print(f"Equatorial wall check (NGSolve, l = m = {l}, n_out = {n_out:g}, order 3, 12 points):")
    for pol in ("TE", "TM"):
        for mirror in ("electric", "magnetic"):
            res = spawn(["ngsolve", l, n_out, pol, 3, 12.0, mirror])
            if "k" not in res:
                print(f"  shift at {pol}, {mirror} wall: {res.get('error', 'no resonator mode')}")
                continue
            k = complex(*res["k"])
            dist = ", ".join(f"{abs(e.real / k.real - 1):.1e} from exact {name}" for name, e in exact.items())
            print(f"  shift at {pol}, {mirror} wall: found TE share {res['te_share']:.3f}, {dist}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two cases, the default setting of each code")
    ap.add_argument("--verbose", action="store_true", help="also print each run's time split and checks")
    ap.add_argument("--mirror-check", action="store_true", help="only the check of the equatorial walls")
    ap.add_argument("--repeat", type=int, default=1, help="runs per row; the fastest is reported (shared machines)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(json.loads(args.child))
        return 0
    try:
        import ngsolve  # noqa: F401
    except ImportError:
        print('ngsolve is not installed: run pip install ".[bench]" (the bench extra) to use this peer.')
        return 2
    if args.mirror_check:
        mirror_check()
        return 0
    cases, settings = (QUICK_CASES, QUICK_SETTINGS) if args.quick else (CASES, SETTINGS)
    print(f"sphere a = {RADIUS_UM} um, n = {INDEX}, p = 1, q = 0; {THREADS} threads per run; "
          f"Q compared below {Q_RESOLVED_MAX:.0e}\n")
    print(HEADER, flush=True)
    for case in cases:
        for code, order, ppw in settings:
            runs = [spawn([code, *case, order, ppw]) for _ in range(max(1, args.repeat))]
            res = min(runs, key=lambda r: r.get("wall_s", math.inf))
            print(row(case, code, order, ppw, res), flush=True)
            if args.verbose and "error" not in res:
                parts = " ".join(f"{k} {v:.1f}" for k, v in res["parts"].items())
                extra = {k: res[k] for k in ("factored", "window", "label", "body_share", "te_share") if k in res}
                print(f"<!-- {parts}; {extra} -->", flush=True)
    if not args.quick:
        print()
        mirror_check()
    return 0


if __name__ == "__main__":
    sys.exit(main())
