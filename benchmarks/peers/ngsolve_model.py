"""The peer: the same cross-section problems written directly in NGSolve (curved high-order H1).

Lengths in um, wavenumbers in 1/um. Written from the formulation in docs/theory.md section 1, not from wgmfem's code:

* Ez: A = int a (Lambda grad u) . grad v,  B = int n^2 m_s u v   (a = 1)
* Hz: A = int n^-2 (Lambda grad u) . grad v, B = int m_s u v

Lambda and m_s are the radial PML of the spec (the same profile wgmfem uses:
s = 1 + i sigma0 xi^q, r~ = r + i sigma0 d xi^(q+1)/(q+1), Lambda_rr = r~/(r s),
Lambda_phiphi = r s / r~, m_s = s r~ / r), written here as coefficient functions, or
Dirichlet walls at the cut and the end. Geometry: Netgen's OCC kernel, one face per layer,
per-face maximal element size from the same rule as wgmfem (order * lambda / (n * ppw), at
most 2 pi R / 64 near a circle of radius R, no finer band at the guiding interface: see BAND_FACTOR), curved
to the element order (``mesh.Curve``). A sector has its two straight sides identified by
the rotation (``IdentificationType.PERIODIC``) and ``Periodic(H1)``; for m alpha a multiple
of 2 pi the Floquet phase is 1.

Eigen-solvers (``spec["eig"]``):

* ``arnoldi``: NGSolve's own shift-invert ``ArnoldiSolver`` on a complex space (what the
  tutorials show; the factorization is ``spec["inverse"]``);
* ``arpack``: static condensation of the shifted operator A - sigma B (``condense=True``:
  only the element-boundary dofs enter the factorization), NGSolve's factorization
  (``sparsecholesky`` or MKL ``pardiso``) and scipy's ARPACK (Lanczos for the real
  symmetric closed problem, Arnoldi with a PML). This is the fastest set-up we found.
"""

from __future__ import annotations

import math
import time

import numpy as np

#: NGSolve curves its elements to the element order, so it could mesh circles as coarsely as
#: wgmfem's exact-circle geometry (16 per turn); on the rod that made it worse (P5 8 ppw:
#: -2.2e-5 instead of -9.6e-8, P6: -6.3e-6 instead of -1e-9, measured): without a finer band
#: at the interface the 64-per-turn rule is its refinement there, so the peer keeps it
ELEMENTS_PER_CIRCLE = 64
#: wgmfem refines a band at the guiding interface (0.75 h); an edge maxh of 0.75 h in Netgen
#: distorted the thin sector's elements (P5 12 ppw: -4e-5 instead of -1e-6, measured), so the
#: NGSolve model uses the plain per-region sizes
BAND_FACTOR = 1.0


def _region_sizes(spec):
    """Max element size (um) per region name from the wgmfem-like rule."""
    lam = 2 * math.pi / spec["k_ref"][0]
    bounds = spec["bounds_um"]  # inner..outer boundary radii of the regions, len = regions + 1
    sizes = {}
    for i, (name, n) in enumerate(zip(spec["regions"], spec["region_index"])):
        radius = max(min(bounds[i], bounds[i + 1]), bounds[i + 1] if bounds[i] == 0 else 0)
        outer = name in ("outside", "pml") and spec.get("outer_ppw")
        h = spec["order"] / (spec["outer_ppw"] if outer else spec["ppw"]) * lam / n
        if name == "pml":
            h /= math.hypot(1.0, spec["pml"][2])
        sizes[name] = min(h, 2 * math.pi * radius / ELEMENTS_PER_CIRCLE)
    return sizes


def build_mesh(spec):
    """NGSolve mesh of the annulus/disk layers (full or sector), curved to the element order."""
    from netgen.occ import Axis, Circle, Glue, IdentificationType, OCCGeometry, Rotation, WorkPlane, Z
    from ngsolve import Mesh

    bounds, regions = spec["bounds_um"], spec["regions"]
    sizes = _region_sizes(spec)
    angle = None if spec["sector"] is None else 2 * math.pi * spec["sector"][0] / spec["sector"][1]
    wedge = None
    if angle is not None:
        reach = 1.05 * bounds[-1] / math.cos(angle / 2)
        wp = WorkPlane()
        wp.MoveTo(0, 0).LineTo(reach, 0).LineTo(reach * math.cos(angle), reach * math.sin(angle)).Close()
        wedge = wp.Face()
    faces = []
    for i, name in enumerate(regions):
        face = Circle((0, 0), bounds[i + 1]).Face()
        if bounds[i] > 0:
            face = face - Circle((0, 0), bounds[i]).Face()
        if wedge is not None:
            face = face * wedge
        face.faces.name = name
        face.faces.maxh = sizes[name]
        faces.append(face)
    shape = Glue(faces)
    side_a, side_b = [], []
    guide_r = spec["guide_radius_um"]
    for e in shape.edges:
        c = e.center
        r, phi = math.hypot(c.x, c.y), math.atan2(c.y, c.x)
        if angle is not None and abs(phi) < 1e-9:
            side_a.append(e)
        elif angle is not None and abs(phi - angle) < 1e-9:
            side_b.append(e)
        elif abs(r - bounds[0]) < 1e-3 * bounds[-1] and bounds[0] > 0:
            e.name = "cut"
        elif abs(r - bounds[-1]) < 1e-3 * bounds[-1]:
            e.name = "end"
        elif abs(r - guide_r) < 1e-3 * bounds[-1] and BAND_FACTOR < 1:
            e.maxh = BAND_FACTOR * min(sizes.values())
    if angle is not None:
        key = lambda e: math.hypot(e.center.x, e.center.y)  # noqa: E731
        for ea, eb in zip(sorted(side_a, key=key), sorted(side_b, key=key)):
            ea.Identify(eb, "periodic", IdentificationType.PERIODIC, Rotation(Axis((0, 0, 0), Z), math.degrees(angle)))
    ngmesh = OCCGeometry(shape, dim=2).GenerateMesh(maxh=max(sizes.values()))
    mesh = Mesh(ngmesh)
    mesh.Curve(max(2, spec["order"]))
    return mesh


def _pml_coefficients(spec):
    """(Lambda (2x2 CF), m_s CF) of the radial PML, valid on the ``pml`` region."""
    from ngsolve import CF, IfPos, sqrt, x, y

    r0, d, sigma0, q = spec["pml"]
    r = sqrt(x * x + y * y)
    xi = IfPos(r - r0, (r - r0) / d, 0)
    s = 1 + 1j * sigma0 * xi**q
    rt = r + 1j * sigma0 * d * xi ** (q + 1) / (q + 1)
    l_rr, l_pp = rt / (r * s), r * s / rt
    c, sn = x / r, y / r
    lam = CF((l_rr * c * c + l_pp * sn * sn, (l_rr - l_pp) * c * sn,
              (l_rr - l_pp) * c * sn, l_rr * sn * sn + l_pp * c * c), dims=(2, 2))
    return lam, s * rt / r


def _forms(spec, fes, mesh, shift=None, condense=False):
    """Bilinear forms: (A, B) or, with ``shift``, the single form A - shift B."""
    from ngsolve import BilinearForm, InnerProduct, dx, grad

    pol = spec["pol"]
    n2 = {nm: n * n for nm, n in zip(spec["regions"], spec["region_index"])}
    a = {nm: (1.0 if pol == "Ez" else 1.0 / v) for nm, v in n2.items()}
    b = {nm: (v if pol == "Ez" else 1.0) for nm, v in n2.items()}
    u, v = fes.TnT()
    pml = "pml" in spec["regions"]
    if pml:
        lam_cf, ms = _pml_coefficients(spec)

    def stiff(nm):
        if nm == "pml":
            return a[nm] * InnerProduct(lam_cf * grad(u), grad(v)) * dx(definedon=mesh.Materials(nm))
        return a[nm] * grad(u) * grad(v) * dx(definedon=mesh.Materials(nm))

    def mass(nm):
        w = b[nm] * ms if nm == "pml" else b[nm]
        return w * u * v * dx(definedon=mesh.Materials(nm))

    names = spec["regions"]
    if shift is not None:
        form = BilinearForm(fes, symmetric=True, condense=condense)
        for nm in names:
            form += stiff(nm) - shift * mass(nm)
        return form
    A = BilinearForm(fes, symmetric=True)
    B = BilinearForm(fes, symmetric=True)
    for nm in names:
        A += stiff(nm)
        B += mass(nm)
    return A, B


def _space(spec, mesh, complex_):
    from ngsolve import H1, Periodic

    dirichlet = "|".join(nm for nm in ("cut", "end") if nm in mesh.GetBoundaries())
    fes = H1(mesh, order=spec["order"], dirichlet=dirichlet, complex=complex_)
    return Periodic(fes) if spec["sector"] is not None else fes


def _tm(spec):
    """NGSolve's TaskManager (spec["threads"] > 1) or a no-op context (1 thread)."""
    import contextlib

    from ngsolve import TaskManager

    return TaskManager() if spec.get("threads", 2) > 1 else contextlib.nullcontext()


def solve(spec):
    """Solve one spec; returns (k array, eigenvector list, helpers, timings, ndof info)."""
    import ngsolve
    from ngsolve import GridFunction

    ngsolve.SetNumThreads(spec.get("threads", 2))
    timings = {}
    t0 = time.perf_counter()
    mesh = build_mesh(spec)
    timings["mesh"] = time.perf_counter() - t0
    pml = "pml" in spec["regions"]
    sigma = complex(spec["k_ref"][0], 0) ** 2
    nev = spec.get("num_modes", 6)
    t0 = time.perf_counter()
    # NGSolve's worker threads spin while Python code runs: enter the TaskManager only
    # around NGSolve's own work (assembly, factorization, each solve), never around ARPACK
    if spec["eig"] == "arpack":
        lam, vecs, fes, B, n_fact = _arpack(spec, mesh, sigma, pml, nev, timings, t0)
    else:
        with _tm(spec):
            fes = _space(spec, mesh, True)
            A, B = _forms(spec, fes, mesh)
            A.Assemble()
            B.Assemble()
            timings["assemble"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            gf = GridFunction(fes, multidim=nev)
            lam = ngsolve.ArnoldiSolver(A.mat, B.mat, fes.FreeDofs(), list(gf.vecs), shift=sigma,
                                        inverse=spec["inverse"])
            lam = np.array([complex(z) for z in lam])
            vecs = [np.array(gf.vecs[i].FV().NumPy()) for i in range(nev)]
            n_fact = sum(fes.FreeDofs())
    timings["eigensolve"] = time.perf_counter() - t0
    k = np.sqrt(lam.astype(complex))
    k = np.where(k.real < 0, -k, k)
    return dict(mesh=mesh, fes=fes, k=k, vecs=vecs, timings=timings, ndof=int(sum(fes.FreeDofs())),
                n_factored=int(n_fact))


def _arpack(spec, mesh, sigma, pml, nev, timings, t0):
    """Static condensation + NGSolve factorization + scipy ARPACK shift-invert."""
    import scipy.sparse.linalg as spla
    from ngsolve import IdentityMatrix

    complex_ = pml
    fes = _space(spec, mesh, complex_)
    shifted = _forms(spec, fes, mesh, shift=sigma.real if not complex_ else sigma, condense=True)
    _, B = _forms(spec, fes, mesh)
    with _tm(spec):
        shifted.Assemble()
        B.Assemble()
    timings["assemble"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    coupling = fes.FreeDofs(True)
    with _tm(spec):
        inv_s = shifted.mat.Inverse(coupling, inverse=spec["inverse"])
    ext = IdentityMatrix(fes.ndof, complex=complex_) + shifted.harmonic_extension
    ext_t = IdentityMatrix(fes.ndof, complex=complex_) + shifted.harmonic_extension_trans
    inv = ext @ inv_s @ ext_t + shifted.inner_solve
    timings["factorize"] = time.perf_counter() - t1
    free = np.array(list(fes.FreeDofs()), dtype=bool)
    nfree = int(free.sum())
    xv, yv, bv = inv.CreateColVector(), inv.CreateColVector(), inv.CreateColVector()
    dtype = complex if complex_ else float
    counter = [0]

    def op(vec):  # (A - sigma B)^-1 B x  (complex) or (A - sigma B)^-1 x (eigsh with M=B)
        counter[0] += 1
        xv.FV().NumPy()[:] = 0
        xv.FV().NumPy()[free] = vec
        with _tm(spec):
            if complex_:
                bv.data = B.mat * xv
                yv.data = inv * bv
            else:
                yv.data = inv * xv
        return yv.FV().NumPy()[free].copy()

    lin = spla.LinearOperator((nfree, nfree), matvec=op, dtype=dtype)
    from threadpoolctl import threadpool_limits

    blas_one = threadpool_limits(limits=1, user_api="blas")  # as wgmfem: ARPACK's small dense steps
    if complex_:
        nu, v = spla.eigs(lin, k=nev, which="LM", ncv=max(2 * nev + 1, 20))
        lam = sigma + 1.0 / nu
    else:
        def b_op(vec):
            xv.FV().NumPy()[:] = 0
            xv.FV().NumPy()[free] = vec
            bv.data = B.mat * xv
            return bv.FV().NumPy()[free].copy()

        bop = spla.LinearOperator((nfree, nfree), matvec=b_op, dtype=float)
        lam, v = spla.eigsh(lin, k=nev, M=bop, sigma=sigma.real, which="LM", OPinv=lin)
        lam = lam.astype(complex)
    blas_one.restore_original_limits()
    timings["solves"] = counter[0]
    full = np.zeros((fes.ndof, nev), dtype=complex)
    full[free] = v
    vecs = [full[:, i] for i in range(nev)]
    return lam, vecs, fes, B, int(sum(coupling))


def _region_energy(spec, mesh, gf):
    """Electric energy per region (Ez: Re n^2 |u|^2; Hz: |grad u|^2 / n^2) of one field."""
    from ngsolve import Conj, InnerProduct, Integrate, dx, grad

    out = {}
    for nm, n in zip(spec["regions"], spec["region_index"]):
        if spec["pol"] == "Ez":
            dens = n * n * gf * Conj(gf)
        else:
            dens = InnerProduct(grad(gf), grad(gf)) / (n * n)
        out[nm] = abs(Integrate(dens * dx(definedon=mesh.Materials(nm)), mesh))
    return out


def identify(spec, res, which=None):
    """Per eigenvector: k, region (largest energy outside the PML), core fraction, m, p.

    m: dominant |m| of the FFT of u on the circle of the field maximum in its region (over the
    sector arc for a sector); p: maxima of |u| along a ray through that region.
    """
    from ngsolve import GridFunction
    from scipy.signal import find_peaks

    mesh, fes = res["mesh"], res["fes"]
    gf = GridFunction(fes)
    angle = 2 * math.pi if spec["sector"] is None else 2 * math.pi * spec["sector"][0] / spec["sector"][1]
    bounds = spec["bounds_um"]
    out = []
    which = range(len(res["k"])) if which is None else which
    for k, vec in ((res["k"][i], res["vecs"][i]) for i in which):
        gf.vec.FV().NumPy()[:] = vec if gf.vec.is_complex else vec.real
        energy = _region_energy(spec, mesh, gf)
        total = sum(e for nm, e in energy.items() if nm != "pml")
        frac = {nm: e / total for nm, e in energy.items() if nm != "pml"}
        region = max(frac, key=frac.get)
        i = spec["regions"].index(region)
        lo, hi = bounds[i], bounds[i + 1]
        rr = np.linspace(lo + 1e-4 * (hi - lo), hi - 1e-4 * (hi - lo), 600)
        phi0 = 0.37 * angle
        vals = np.abs(gf(mesh(rr * math.cos(phi0), rr * math.sin(phi0)))).ravel()
        p = len(find_peaks(vals, height=1e-3 * vals.max(), prominence=0.05 * vals.max())[0])
        r_probe = rr[int(np.argmax(vals))]
        nsamp = 1 << int(math.ceil(math.log2(4 * (2 * spec["k_ref"][0] * r_probe * max(spec["region_index"]) * angle / (2 * math.pi) + 16))))
        theta = angle * np.arange(nsamp) / nsamp
        ring = np.asarray(gf(mesh(r_probe * np.cos(theta), r_probe * np.sin(theta)))).ravel()
        power = np.abs(np.fft.fft(ring)) ** 2
        m_vals = np.abs(np.rint(np.fft.fftfreq(nsamp, 1.0 / nsamp) * 2 * math.pi / angle)).astype(int)
        per_m = np.bincount(m_vals, power)
        m = int(np.argmax(per_m))
        out.append(dict(k=complex(k), region=region, core_fraction=frac.get("core", 0.0), m=m,
                        purity=float(per_m[m] / per_m.sum()), p=p,
                        pml_fraction=energy.get("pml", 0.0) / (total + energy.get("pml", 0.0))))
    return out
