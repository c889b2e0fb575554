"""Pluggable shift-invert eigensolvers for the generalized problem A x = lam B x.

Selected by name (``eigensolver=`` of :func:`wgmfem.fem.cross_section.solve_cross_section`):

``scipy`` (default)
    ARPACK's Arnoldi (``eigs``) on the operator (A - sigma B)^-1 B, with our own sparse
    factorization of A - sigma B, chosen by
    ``linear_solver``:

    * ``pardiso``: MKL PARDISO, the library the optional ``pypardiso`` package installs
      (``pip install 'wgmfem[fast]'``). pypardiso's own Python wrapper handles real
      matrices only; the PML problem is complex symmetric (and a sector with a complex
      Floquet phase is complex Hermitian), so :class:`Pardiso` calls the same MKL
      ``pardiso`` entry point directly with the complex matrix types (6 = complex
      symmetric, 13 = complex nonsymmetric); real problems use -2 (real symmetric
      indefinite). Memory and time: 3.8 M real 2-D unknowns factored in 31 s
      (measured on the project's machine); SuperLU is 2.5-5x slower at 50k-2M unknowns and stalls beyond.
    * ``superlu``: scipy's SuperLU (COLAMD ordering), always available.
    * ``auto``: PARDISO when pypardiso is installed and the system has more than
      ``PARDISO_ABOVE_UNKNOWNS`` unknowns (30k real, 8k complex), else SuperLU.

``slepc``
    SLEPc's Krylov-Schur (``slepc4py``/``petsc4py``, optional extra
    ``pip install 'wgmfem[slepc]'``) with spectral transformation SINVERT, a direct LU
    (MUMPS when PETSc has it: parallel and distributed over MPI ranks, else PETSc's
    own serial LU). Complex problems (PML, complex Floquet phase) need a PETSc built
    with complex scalars (``--with-scalar-type=complex``); a real PETSc refuses them
    with a one-line error. Under MPI (``mpiexec -n 4 python script.py``) every rank
    assembles the same matrices (scikit-fem is serial), hands its block of rows to
    PETSc and gets the eigenvectors back in full; only the factorization, the largest
    cost in memory, is distributed. See ``docs/fem.md``.

All solvers return (lam, vectors, name) with ``vectors`` of shape (n, num_modes)
and fill ``stats`` with ``factorize_s`` (s) and ``solves`` (operator applications,
or SLEPc iterations); a callable ``stats["on_factorized"](seconds)`` is called as soon
as the factorization is done (progress output).
"""

from __future__ import annotations

import contextlib
import os
import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

EIGENSOLVERS = ("scipy", "slepc")
LINEAR_SOLVERS = ("auto", "superlu", "pardiso")


_BLAS_CONTROLLER: list = []  # one threadpoolctl controller per process (finding the libraries takes ~7 ms)


def _blas_pinned_to_one_thread() -> bool:
    """The environment already runs OpenBLAS and MKL on one thread (each reads its own
    variable first, then OMP_NUM_THREADS)."""
    omp = os.environ.get("OMP_NUM_THREADS")
    return all(os.environ.get(var, omp) == "1" for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"))


@contextlib.contextmanager
def _single_threaded_blas():
    """ARPACK's small dense steps gain nothing from BLAS threads on a loaded machine."""
    if _blas_pinned_to_one_thread():  # nothing to limit: skip threadpoolctl's library scan
        yield
        return
    if not _BLAS_CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _BLAS_CONTROLLER.append(None)
        else:
            _BLAS_CONTROLLER.append(ThreadpoolController())
    if _BLAS_CONTROLLER[0] is None:
        yield
        return
    with _BLAS_CONTROLLER[0].limit(limits=1, user_api="blas"):
        yield


class Pardiso:
    """MKL PARDISO (the library pypardiso installs) for real or complex sparse matrices.

    pypardiso itself only wraps real matrices; the PML problem is complex symmetric
    (mtype 6), so this calls the same ``pardiso`` entry point directly. Symmetric
    matrices pass their upper triangle only; 1-based indices (iparm[34] = 0).
    """

    def __init__(self, K, symmetric: bool = True, iparm: dict | None = None, upper: bool = False):
        import ctypes

        # own settings (iparm[0] = 1): nested dissection (METIS), pivot perturbation
        # 1e-8 (1e-13 nonsymmetric), scaling + matching. MKL's defaults add two
        # refinement steps to every solve (3x slower, measured) for no gain here.
        defaults = {0: 1, 1: 2, 9: 8 if symmetric else 13, 10: 1, 12: 1}
        iparm = {**defaults, **(iparm or {})}
        self._ct = ctypes
        self._lib = _mkl_pardiso()
        self.complex = np.iscomplexobj(K.data)
        # symmetric: complex 6 / real indefinite -2 (upper triangle); else complex 13 / real 11
        self.mtype = (6 if self.complex else -2) if symmetric else (13 if self.complex else 11)
        # ``upper``: K already holds only its upper triangle (saves a copy of a large matrix)
        Ku = (K if upper else sp.triu(K, format="csr")) if symmetric else sp.csr_matrix(K)
        Ku.sort_indices()
        self.n = K.shape[0]
        self.data = np.ascontiguousarray(Ku.data, dtype=complex if self.complex else float)
        self.ia = (Ku.indptr + 1).astype(np.int32)
        self.ja = (Ku.indices + 1).astype(np.int32)
        self.pt = np.zeros(64, dtype=np.int64)
        self.iparm = np.zeros(64, dtype=np.int32)
        for i, v in iparm.items():
            self.iparm[i] = v
        self._call(12, np.zeros((self.n, 1), dtype=self.data.dtype))

    def _call(self, phase, b):
        ct = self._ct
        b = np.asfortranarray(b, dtype=self.data.dtype)
        x = np.zeros_like(b)
        err = ct.c_int32(0)
        i32 = ct.POINTER(ct.c_int32)
        self._lib(
            self.pt.ctypes.data_as(ct.POINTER(ct.c_int64)),
            ct.byref(ct.c_int32(1)),
            ct.byref(ct.c_int32(1)),
            ct.byref(ct.c_int32(self.mtype)),
            ct.byref(ct.c_int32(phase)),
            ct.byref(ct.c_int32(self.n)),
            self.data.ctypes.data_as(ct.c_void_p),
            self.ia.ctypes.data_as(i32),
            self.ja.ctypes.data_as(i32),
            np.zeros(0, dtype=np.int32).ctypes.data_as(i32),
            ct.byref(ct.c_int32(b.shape[1])),
            self.iparm.ctypes.data_as(i32),
            ct.byref(ct.c_int32(0)),
            b.ctypes.data_as(ct.c_void_p),
            x.ctypes.data_as(ct.c_void_p),
            ct.byref(err),
        )
        if err.value != 0:
            raise RuntimeError(f"PARDISO failed in phase {phase} with error {err.value}")
        return x

    def solve(self, b):
        b = np.asarray(b)
        return self._call(33, b.reshape(self.n, -1)).reshape(b.shape)

    def release(self):
        if self.pt.any():
            self._call(-1, np.zeros((self.n, 1), dtype=self.data.dtype))
            self.pt[:] = 0

    def __del__(self):
        with contextlib.suppress(Exception):
            self.release()


_MKL: dict = {}


def _mkl_pardiso():
    """The ``pardiso`` function of MKL's mkl_rt (loaded once; pip puts it in <prefix>/lib)."""
    if "pardiso" not in _MKL:
        import ctypes
        import glob
        import sys

        lib = None
        for path in sorted(glob.glob(f"{sys.prefix}/lib/libmkl_rt.so*"), key=len):
            with contextlib.suppress(OSError):
                lib = ctypes.CDLL(path)
                break
        if lib is None:  # pypardiso's own (slower, recursive) search
            import pypardiso

            lib = pypardiso.PyPardisoSolver().libmkl
        _MKL["pardiso"] = lib.pardiso
    return _MKL["pardiso"]


def pardiso_available() -> bool:
    """pypardiso (and with it MKL) is installed; not imported here: its import searches the
    whole prefix for MKL (0.4 s)."""
    import importlib.util

    return importlib.util.find_spec("pypardiso") is not None


# ``auto`` picks PARDISO above these sizes (shift-invert of a cross-section, one thread,
# fresh process; benchmarks/peers problems on the 2-core machine of docs/performance.md):
# real symmetric (closed sector): equal to SuperLU at 5-22k unknowns, 1.4x faster
# solves at 49k; complex (PML): 2-3x faster from 12k unknowns (~90 solves of SuperLU's
# denser complex LU dominate). SuperLU stalls by ~650k.
PARDISO_ABOVE_UNKNOWNS = {"real": 30_000, "complex": 8_000}


def _use_pardiso(linear_solver, n: int, real: bool) -> bool:
    if linear_solver == "pardiso":
        return True
    limit = PARDISO_ABOVE_UNKNOWNS["real" if real else "complex"]
    return linear_solver == "auto" and n > limit and pardiso_available()


def _factorize(K, linear_solver, symmetric=True):
    """Return (solve, name) for K x = b (real or complex; ``symmetric``: K = K^T; for
    PARDISO a symmetric K may be given by its upper triangle alone)."""
    if _use_pardiso(linear_solver, K.shape[0], not np.iscomplexobj(K.data)):
        pardiso = Pardiso(K, symmetric, upper=symmetric)
        return pardiso.solve, "pardiso"
    with _single_threaded_blas():  # SuperLU's dense kernels oversubscribe the cores otherwise
        lu = spla.splu(sp.csc_matrix(K), permc_spec="COLAMD")
    return lu.solve, "superlu"


def _shifted(A, B, sigma, dtype, upper):
    """A - sigma B in CSR (only its upper triangle when ``upper``, built without a full copy)."""
    if upper:
        return (sp.triu(A, format="csr") - sigma * sp.triu(B, format="csr")).astype(dtype).tocsr()
    return (A - sigma * B).astype(dtype).tocsr()


def _scipy_shift_invert(A, B, sigma, num_modes, linear_solver, symmetric=True, stats=None):
    """Eigenpairs of A x = lam B x nearest sigma; returns (lam, vectors, solver name).

    ``symmetric``: A and B are (complex) symmetric, false for a complex Floquet phase.
    ``stats`` (a dict) receives the factorization time (s), the number of solves and the
    relative residual of every eigenpair (``factorize_s``, ``solves``, ``residuals``).
    """
    n = A.shape[0]
    stats = {} if stats is None else stats
    real = not (np.iscomplexobj(A.data) or np.iscomplexobj(B.data)) and complex(sigma).imag == 0
    t0 = time.perf_counter()
    upper = _use_pardiso(linear_solver, n, real) and (symmetric or real)
    if real:
        sigma = float(complex(sigma).real)
        solve, name = _factorize(_shifted(A, B, sigma, float, upper), linear_solver)
    else:
        solve, name = _factorize(_shifted(A, B, sigma, complex, upper), linear_solver, symmetric)
    stats["factorize_s"] = time.perf_counter() - t0
    stats["solves"] = 0
    if stats.get("on_factorized"):
        stats["on_factorized"](stats["factorize_s"])

    def counted(x):
        stats["solves"] += 1
        return solve(x)

    k = min(num_modes, n - 2)
    # ARPACK's recommended basis size 2k + 1 (scipy's floor of 20 costs the sector ~30 %
    # more solves for the same eigenpairs, measured)
    ncv = min(n - 1, 2 * k + 1)
    # Arnoldi on (A - sigma B)^-1 B for the real symmetric problem too: Lanczos in the
    # B inner product (eigsh mode 3) needs ~3 products with B per solve, this one; on the
    # paper sector (P6, 4.8k unknowns) 15 ms instead of 23 ms, same eigenvalues to 1e-15
    op = spla.LinearOperator((n, n), matvec=lambda x: counted(B @ x), dtype=float if real else np.complex128)
    # a loose ARPACK tolerance only where the Rayleigh-Ritz values are stationary (see ARPACK_TOL)
    hermitian = not symmetric and _is_hermitian(A) and _is_hermitian(B)
    with _single_threaded_blas():
        nu, vecs = spla.eigs(op, k=k, which="LM", ncv=ncv, tol=ARPACK_TOL if symmetric or hermitian else 0)
    if symmetric or hermitian:
        basis = vecs
        if real:  # Arnoldi may return a degenerate pair of a real pencil as v, conj(v)
            basis = _orthonormal_columns(np.hstack((vecs.real, vecs.imag)))
        # one inverse-iteration step with the same factorization damps what the loose
        # tolerance left of the far eigenvectors, which dominate the residual in A, B
        basis = np.column_stack([counted(B @ basis[:, i]) for i in range(basis.shape[1])])
        lam, vecs = rayleigh_ritz(A, B, basis, sigma, k, symmetric)
    else:
        lam = sigma + 1.0 / nu
    stats["residuals"] = relative_residuals(A, B, lam, vecs)
    return lam.astype(complex), vecs, name


def _orthonormal_columns(M, rtol: float = 1e-8) -> np.ndarray:
    """An orthonormal basis of the span of the columns of M (directions below rtol dropped)."""
    u, sv, _ = np.linalg.svd(M, full_matrices=False)
    return u[:, sv > rtol * sv[0]]


def _is_hermitian(M) -> bool:
    return abs(M - M.conj().T).max() <= 1e-14 * abs(M).max()


#: ARPACK's convergence tolerance (relative Ritz residual of the shift-inverted operator)
#: for symmetric or Hermitian pencils. One inverse-iteration step then cleans the vectors
#: (k more solves) and the eigenpairs come from :func:`rayleigh_ritz` on them, whose
#: eigenvalue error is quadratic in the vector error. Against tol = 0 (machine precision),
#: 6 modes: paper sector 58 -> 49 solves, 3 um rod with PML 91 -> 69, k equal to <= 1.5e-15,
#: the rod's Q to 1e-12 (ARPACK's plain eigenvalues at tol 0 took 52 and 85-89 solves); the
#: paper's Q = 4.8e12 scatters ~1 % run to run with
#: either setting (double precision: Im k / k = 1e-13). A general complex pencil (a PML with
#: a complex Floquet phase) keeps tol = 0.
ARPACK_TOL = 1e-10


def rayleigh_ritz(A, B, basis, sigma, k: int, symmetric: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The k eigenpairs nearest ``sigma`` of A x = lam B x projected on span(basis).

    symmetric (A = A^T, B = B^T, also complex symmetric with a PML): the projection uses
    the transpose, Q^T A Q y = lam Q^T B Q y, because the left eigenvectors of such a pencil
    equal the right ones: the Ritz values are then off by the square of the subspace error
    (the plain x^H A x / x^H B x is not, for a non-normal PML matrix). Otherwise (Hermitian
    A, B: a complex Floquet phase) Q^H. A (near-)degenerate pair in the subspace comes out
    as two independent vectors. Returns (lam, vectors with unit 2-norm).
    """
    import scipy.linalg as sla

    q, _ = np.linalg.qr(basis)
    left = q if symmetric else q.conj()
    a_p, b_p = left.T @ (A @ q), left.T @ (B @ q)
    if np.isrealobj(a_p) and np.isrealobj(b_p) or not symmetric:
        lam, y = sla.eigh((a_p + a_p.conj().T) / 2, (b_p + b_p.conj().T) / 2)
    else:
        lam, y = sla.eig(a_p, b_p)
    pick = np.argsort(np.abs(lam - sigma))[:k]
    vecs = q @ y[:, pick]
    return lam[pick], vecs / np.linalg.norm(vecs, axis=0)


def relative_residuals(A, B, lam, vectors) -> np.ndarray:
    """||A x - lam B x|| / ||A x|| of every eigenpair (columns of ``vectors``)."""
    Ax = A @ vectors
    return np.linalg.norm(Ax - lam * (B @ vectors), axis=0) / np.linalg.norm(Ax, axis=0)


def shift_invert(A, B, sigma, num_modes, *, eigensolver="scipy", linear_solver="auto", symmetric=True, stats=None):
    """Eigenpairs of A x = lam B x nearest ``sigma`` (lam = k^2 in 1/um^2 for the FEM).

    eigensolver : ``scipy`` or ``slepc`` (module docstring); linear_solver (scipy only):
    ``auto``, ``superlu`` or ``pardiso``; symmetric : A = A^T and B = B^T (false for a
    complex Floquet phase). Returns (lam, vectors, name of the factorization used).
    """
    if eigensolver not in EIGENSOLVERS:
        raise ValueError(f"eigensolver must be one of {EIGENSOLVERS}, got {eigensolver!r}")
    if linear_solver not in LINEAR_SOLVERS:
        raise ValueError(f"linear_solver must be one of {LINEAR_SOLVERS}, got {linear_solver!r}")
    if eigensolver == "slepc":
        return _slepc_shift_invert(A, B, sigma, num_modes, symmetric, {} if stats is None else stats)
    return _scipy_shift_invert(A, B, sigma, num_modes, linear_solver, symmetric, stats)


# --------------------------------------------------------------------------
# SLEPc (optional)
# --------------------------------------------------------------------------
def slepc_available() -> bool:
    try:
        import petsc4py  # noqa: F401
        import slepc4py  # noqa: F401
    except ImportError:
        return False
    return True


def _import_slepc():
    try:
        import petsc4py
        import slepc4py
    except ImportError:
        raise RuntimeError("the slepc eigensolver needs slepc4py and petsc4py: pip install 'wgmfem[slepc]'") from None
    import sys

    # options (-eps_*, -st_*, -mat_mumps_*) come from the PETSC_OPTIONS environment variable,
    # not from sys.argv, which belongs to the wgmfem command line
    if "petsc4py.PETSc" not in sys.modules:
        petsc4py.init([sys.argv[0]])
    if "slepc4py.SLEPc" not in sys.modules:
        slepc4py.init([sys.argv[0]])
    from petsc4py import PETSc
    from slepc4py import SLEPc

    return PETSc, SLEPc


def _row_range(n: int, rank: int, size: int) -> tuple[int, int]:
    """PETSc's default split of n rows over ``size`` ranks (PetscSplitOwnership)."""
    base, extra = divmod(n, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def _petsc_matrix(PETSc, M, comm, dtype):
    """This rank's rows of the scipy matrix M as a distributed PETSc AIJ matrix."""
    n = M.shape[0]
    lo, hi = _row_range(n, comm.getRank(), comm.getSize())
    rows = sp.csr_matrix(M)[lo:hi]
    rows.sort_indices()
    csr = (rows.indptr.astype(PETSc.IntType), rows.indices.astype(PETSc.IntType), rows.data.astype(dtype))
    mat = PETSc.Mat().createAIJ(size=((hi - lo, n), (hi - lo, n)), csr=csr, comm=comm)
    mat.assemble()
    return mat


def _slepc_shift_invert(A, B, sigma, num_modes, symmetric, stats):
    PETSc, SLEPc = _import_slepc()
    scalar = np.dtype(PETSc.ScalarType)
    is_complex = np.iscomplexobj(A.data) or np.iscomplexobj(B.data) or complex(sigma).imag != 0
    if is_complex and scalar.kind != "c":
        raise RuntimeError(
            "this eigenproblem is complex (PML or complex Floquet phase) but PETSc has real scalars: "
            "use a PETSc/SLEPc built with --with-scalar-type=complex, or eigensolver='scipy'"
        )
    comm = PETSc.COMM_WORLD
    Ap, Bp = (_petsc_matrix(PETSc, M, comm, scalar) for M in (A, B))
    eps = SLEPc.EPS().create(comm)
    eps.setOperators(Ap, Bp)
    # real symmetric A with SPD mass B: Lanczos-like GHEP; otherwise the general problem
    eps.setProblemType(SLEPc.EPS.ProblemType.GNHEP if is_complex else SLEPc.EPS.ProblemType.GHEP)
    eps.setDimensions(nev=num_modes)
    shift = sigma if scalar.kind == "c" else float(complex(sigma).real)
    eps.setTarget(shift)
    eps.setWhichEigenpairs(SLEPc.EPS.Which.TARGET_MAGNITUDE)
    st = eps.getST()
    st.setType(SLEPc.ST.Type.SINVERT)
    ksp = st.getKSP()
    ksp.setType(PETSc.KSP.Type.PREONLY)
    pc = ksp.getPC()
    pc.setType(PETSc.PC.Type.LU)
    with contextlib.suppress(AttributeError):
        if PETSc.Sys.hasExternalPackage("mumps"):
            pc.setFactorSolverType("mumps")  # distributed LU under MPI
    eps.setFromOptions()
    t0 = time.perf_counter()
    eps.setUp()  # the factorization of A - sigma B happens here
    stats["factorize_s"] = time.perf_counter() - t0
    if stats.get("on_factorized"):
        stats["on_factorized"](stats["factorize_s"])
    eps.solve()
    stats["solves"] = eps.getIterationNumber()
    nconv = min(eps.getConverged(), num_modes)
    if nconv == 0:
        raise RuntimeError("SLEPc found no eigenpair near the target")
    vr, vi = Ap.createVecs()
    scatter, full = PETSc.Scatter.toAll(vr)
    lam = np.zeros(nconv, dtype=complex)
    vecs = np.zeros((A.shape[0], nconv), dtype=complex if is_complex else float)
    for i in range(nconv):
        lam[i] = eps.getEigenpair(i, vr, vi)
        scatter.scatter(vr, full, PETSc.InsertMode.INSERT_VALUES, PETSc.ScatterMode.FORWARD)
        vecs[:, i] = full.getArray().real if not is_complex else full.getArray()
    solver = pc.getFactorSolverType() or "petsc"
    for obj in (eps, Ap, Bp, vr, vi, full, scatter):
        obj.destroy()
    return lam, vecs, f"slepc/{solver}"
