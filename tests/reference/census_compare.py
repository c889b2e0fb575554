"""wgmfem's exact census against the independent reference census, on random fibres.

Used by tests/test_property_census.py (hypothesis) and, as a script, to run the long profile and
print statistics for docs/performance.md::

    python tests/reference/census_compare.py --examples 500            # from the repository root
    python tests/reference/census_compare.py --examples 50 --profile small --verbose
    # --timeout S: an example not finished in S seconds (default 600) counts as failed

Random cases (:func:`cases`): liquid-filled capillaries (inner/outer diameters 5-150 um, core
index above or below the wall's, contrast 1e-4..0.2, outside 1.0 or 1.33) and three-layer
stacks; the liquid (core) lossless, absorbing (kappa 1e-9..1e-2) or amplifying (kappa
-1e-6..-1e-9); a window of 0.05-3 free spectral ranges; the wavelength chosen in 400-1600 nm so
that the largest azimuthal number stays below a cap (the reference needs ~40-100 determinant
evaluations per m and polarization, all m from 0 up).

Checks (:func:`compare`), one polarization per case:

1. every census mode is one independent root of the same (pol, m): relative wavelength error
   <= 1e-10; Q_total (signed: negative for gain) within 1e-6 relative where |Q| <= 1e9, and above
   that Im k within 5e-16 |k| absolute (the 1e-6 of Q = 1e9: a double-precision engine cannot be
   asked for a relative Q beyond it in general, although the reference itself gives Q to ~1e-13
   up to Q ~ 5e12);
2. nothing missing: every independent root with Re(wavelength) in the window (1e-9 relative away
   from its edges) and |Q| >= 1.05 max(q_min, q_floor) is in the census (q_floor from the census
   modes' verification of the same m; where the census has no mode of that m, from the nearest m
   and the Hankel-zero bound, see :func:`_floor_of`);
3. labels unique: (pol, m, nodes) is unique within the result;
4. lookups consistent: ``find_modes(cyl, pol, m, p, region, q_min)`` of a few census modes
   returns a mode with the same k (1e-10 relative);
5. region filter: ``find_modes(..., region="core", p=(1, P))`` (P the largest core p of the full
   census) returns the core modes of the full census, no more, no fewer (same k), where each
   result is complete (|Q_total| >= 1.05 max(q_min, its q_floor)).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reference import independent_census as ic  # noqa: E402

REL_WAVELENGTH_TOL = 1e-10
Q_REL_TOL = 1e-6
Q_RELATIVE_UP_TO = 1e9
IMAG_ABS_TOL_PER_K = 0.5 / Q_RELATIVE_UP_TO * Q_REL_TOL  # 5e-16 |k|: the Q tolerance at Q = 1e9
EDGE_SKIP_REL = 1e-9
MISSING_MARGIN = 1.05
REFERENCE_FLOOR_FACTOR = 0.9  # the reference census goes this much below q_min
LOOKUP_REL_TOL = 1e-10
ALL_CHECKS = ("match", "missing", "labels", "lookup", "region")


# --------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class Case:
    radii: tuple[float, ...]
    indices: tuple[complex, ...]
    n_out: float
    pol: str
    window_nm: tuple[float, float]
    q_min: float
    kind: str  # "lossless", "absorbing" or "gain"
    pick: int = 0  # chooses the census modes of the lookup check

    def cylinder(self):
        import wgmfem

        indices = tuple(n.real if isinstance(n, complex) and n.imag == 0 else n for n in self.indices)
        return wgmfem.LayeredCylinder(radii_um=self.radii, indices=indices, outside_index=self.n_out)

    def reproducer(self) -> str:
        idx = ", ".join(repr(n.real if isinstance(n, complex) and n.imag == 0 else n) for n in self.indices)
        return (
            f"wgmfem.find_modes(wgmfem.LayeredCylinder(radii_um={self.radii!r}, indices=({idx},), "
            f"outside_index={self.n_out!r}), pol={self.pol!r}, wavelength_nm={self.window_nm!r}, "
            f"region=None, p=None, q_min={self.q_min!r})"
        )


def _round(x: float, digits: int = 6) -> float:
    return float(f"{x:.{digits}g}")


def cases(m_cap: int = 250, max_fsr: float = 3.0, three_layer: bool = True, loss_kinds=("lossless", "absorbing", "gain")):
    """Hypothesis strategy of :class:`Case` (imported lazily: hypothesis is a test dependency)."""
    from hypothesis import strategies as st

    @st.composite
    def strategy(draw):
        n_out = draw(st.sampled_from([1.0, 1.33]))
        layered = three_layer and draw(st.integers(0, 3)) == 0
        contrast = lambda: 10 ** draw(st.floats(-4.0, math.log10(0.2)))  # noqa: E731
        if not layered:
            wall = draw(st.floats(max(1.30, n_out + 0.02), 1.80))
            sign = draw(st.sampled_from([1, -1]))
            core = wall + sign * contrast()
            core = core if core >= 1.30 else wall + contrast()
            real_indices = [core, wall]
        else:
            mid = draw(st.floats(max(1.30, n_out + 0.02), 1.80))
            real_indices = [mid + draw(st.sampled_from([1, -1])) * contrast(), mid, mid - draw(st.sampled_from([1, -1])) * contrast()]
            real_indices = [max(n, 1.30) for n in real_indices]
        n_max = max(real_indices)
        # the outer diameter: up to the size that keeps m <= m_cap at 1600 nm
        d_cap = min(150.0, m_cap * 1.6 / (math.pi * n_max))
        d_out = draw(st.floats(5.5, max(5.6, d_cap)))
        if not layered:
            shape = draw(st.sampled_from(["thin", "medium", "thick"]))
            ratio = {
                "thin": draw(st.floats(0.95, 0.998)),
                "medium": draw(st.floats(0.4, 0.95)),
                "thick": draw(st.floats(0.03, 0.4)),
            }[shape]
            d_in = max(5.0, d_out * ratio)
            if d_in >= d_out - 0.02:
                d_in = d_out - 0.02 if d_out - 0.02 >= 5.0 else d_out * 0.9
            radii = (_round(d_in / 2), _round(d_out / 2))
        else:
            f1 = draw(st.floats(0.2, 0.9))
            f2 = draw(st.floats(f1 + 0.02, 0.99))
            radii = (_round(d_out / 2 * f1), _round(d_out / 2 * f2), _round(d_out / 2))
        # the wavelength from the largest azimuthal number wanted, within 400-1600 nm
        x_per_um = 2000 * math.pi * n_max * radii[-1]  # n_max k R_out = x_per_um / lambda_nm
        m_lo = max(8, math.ceil(x_per_um / 1600))
        m_hi = max(m_lo, min(m_cap, math.floor(x_per_um / 400)))
        m_target = draw(st.integers(m_lo, m_hi))
        lam = min(1600.0, max(400.0, x_per_um / m_target))
        kind = draw(st.sampled_from(list(loss_kinds)))
        indices = [complex(_round(n, 7)) for n in real_indices]
        if kind == "absorbing":
            indices[0] += 1j * _round(10 ** draw(st.floats(-9.0, -2.0)), 3)
        elif kind == "gain":
            indices[0] -= 1j * _round(10 ** draw(st.floats(-9.0, -6.0)), 3)
        m_est = x_per_um / lam
        fsr = lam / max(m_est, 1.0)
        width = fsr * draw(st.floats(0.05, max_fsr))
        window = (_round(lam - width / 2, 9), _round(lam + width / 2, 9))
        q_choices = {"lossless": [20.0, 100.0, 20.0, 1000.0], "absorbing": [5.0, 10.0, 20.0], "gain": [5.0, 20.0, 100.0]}[kind]
        q_min = draw(st.sampled_from(q_choices))
        pol = draw(st.sampled_from(["Ez", "Hz"]))
        pick = draw(st.integers(0, 10**6))
        return Case(radii, tuple(indices), n_out, pol, window, q_min, kind, pick)

    return strategy()


# --------------------------------------------------------------------------- comparison
@dataclass
class Report:
    case: Case
    modes: int = 0
    reference_roots: int = 0
    compared: int = 0
    required: int = 0  # reference roots the census had to contain (check 2)
    worst_wavelength: float = 0.0
    worst_q: float = 0.0  # relative, |Q| <= 1e9
    worst_imag: float = 0.0  # |d Im k| / |k|, |Q| > 1e9
    worst_q_mode: str = ""
    lookups: int = 0
    engine_s: float = 0.0
    reference_s: float = 0.0
    lookup_s: float = 0.0
    failures: dict = field(default_factory=dict)  # check name -> list of messages
    reference_problems: list = field(default_factory=list)

    def fail(self, check: str, message: str):
        self.failures.setdefault(check, []).append(message)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.reference_problems

    def summary(self, limit: int = 6) -> str:
        lines = [f"case: {self.case}", f"reproducer: {self.case.reproducer()}"]
        if self.reference_problems:
            lines.append(f"reference census incomplete: {self.reference_problems[:limit]}")
        for check, msgs in self.failures.items():
            lines.append(f"[{check}] {len(msgs)} failure(s):")
            lines.extend(f"    {msg}" for msg in msgs[:limit])
        return "\n".join(lines)


_AIRY_A1 = 2.338107410459767  # |a_1|, first zero of Ai


def hankel_floor(case: Case, m: int, k_re: float) -> float:
    """k / |Im k_H|, k_H the zero of H1_m(k n_out R) nearest the real axis (asymptotically
    |Im k_H| = (m/2)^(1/3) |a_1| sin(pi/3) / (n_out R), DLMF 10.21(ix)): a counting contour that
    must keep clear of those zeros (at half their distance) cannot count resonances below this Q."""
    kappa_h = (max(m, 1) / 2) ** (1 / 3) * _AIRY_A1 * math.sin(math.pi / 3) / (case.n_out * case.radii[-1])
    return k_re / kappa_h


def _floor_of(modes, pol, m, q_min, case: Case | None = None, k_re: float | None = None):
    """The census's q_floor at (pol, m): from its modes of that m.  Where it has none the floor
    cannot be read; it is then the larger of the nearest m's, raised as (m_near / m)^(1/3)
    towards lower m, and :func:`hankel_floor` (the floor is raised at low m to keep the counting
    contour off the zeros of H1_m, whose distance below the real axis grows like m^(1/3));
    never below q_min."""
    floors = [(md.m, md.verification.get("q_floor")) for md in modes if md.pol == pol]
    floors = [(mm, q) for mm, q in floors if q is not None]
    same = [q for mm, q in floors if mm == m]
    if same:
        return max(max(same), q_min)
    best = q_min
    if case is not None and k_re is not None:
        best = max(best, hankel_floor(case, m, k_re))
    if floors:
        nearest = min(abs(mm - m) for mm, _ in floors)
        for mm, q in floors:
            if abs(mm - m) == nearest:
                best = max(best, q * (max(mm, 1) / max(m, 1)) ** (1 / 3) if m < mm else q)
    return best


def reference_census(case: Case) -> ic.Census:
    lo, hi = case.window_nm
    widen = 1e-7  # census modes at the edges still find their root
    return ic.census_window(
        ic.Stack(case.radii, case.indices, case.n_out),
        case.pol,
        (lo * (1 - widen), hi * (1 + widen)),
        REFERENCE_FLOOR_FACTOR * case.q_min,
    )


def compare(case: Case, lookups: int = 2, reference: ic.Census | None = None, checks=ALL_CHECKS) -> Report:
    """Run wgmfem and the reference on ``case``; every discrepancy goes into the report.

    ``checks``: which of ``ALL_CHECKS`` to run (the reference census only for match/missing)."""
    import wgmfem

    checks = set(checks)

    rep = Report(case)
    cyl = case.cylinder()
    lo, hi = case.window_nm
    t0 = time.perf_counter()
    try:
        modes = wgmfem.find_modes(cyl, pol=case.pol, wavelength_nm=(lo, hi), region=None, p=None, q_min=case.q_min, fsr=False)
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        rep.engine_s = time.perf_counter() - t0
        rep.fail("engine", f"find_modes raised {type(exc).__name__}: {exc}")
        return rep
    rep.engine_s = time.perf_counter() - t0
    rep.modes = len(modes)

    if checks & {"match", "missing"}:
        t0 = time.perf_counter()
        try:
            ref = reference if reference is not None else reference_census(case)
        except ic.RangeError as exc:  # outside the reference's double-precision range: say so
            rep.reference_problems.append(f"reference census impossible: {exc}")
            ref = None
        rep.reference_s = time.perf_counter() - t0
        if ref is not None:
            _match_and_missing(rep, case, modes, ref, checks)
    if "labels" in checks:
        _labels(rep, modes)
    if "lookup" in checks:
        _lookups(rep, case, cyl, modes, lookups)
    if "region" in checks:
        _region(rep, case, cyl, modes)
    return rep


def _match_and_missing(rep: Report, case: Case, modes, ref: ic.Census, checks):
    """1. every census mode is an independent root; 2. no independent root is missing."""
    lo, hi = case.window_nm
    rep.reference_problems = list(ref.problems)
    roots_by_m: dict[int, list[ic.Resonance]] = {}
    for r in ref.roots:
        roots_by_m.setdefault(r.m, []).append(r)
    rep.reference_roots = sum(1 for r in ref.roots if 2000 * math.pi / hi <= r.k.real <= 2000 * math.pi / lo)

    matched: dict[tuple, object] = {}
    for md in modes:
        if md.pol != case.pol:
            rep.fail("match", f"{md!r}: polarization {md.pol} was not asked for")
            continue
        cands = roots_by_m.get(md.m, [])
        k = complex(md.k)
        best = min(cands, key=lambda r: abs(r.k - k)) if cands else None
        if best is None or abs(best.k.real - k.real) > REL_WAVELENGTH_TOL * best.k.real:
            if "match" not in checks:
                continue
            # below the reference's floor, or not a root at all: ask the reference locally
            k_loc, count = ic.local_root(ref.stack, md.pol, md.m, k)
            if count == 1 and abs(k_loc.real - k.real) <= REL_WAVELENGTH_TOL * k_loc.real:
                best = ic.Resonance(md.pol, md.m, k_loc)
            else:
                near = f"nearest independent root {best.k!r} (Q {best.Q:.4g})" if best else "no independent root at this m"
                rep.fail("match", f"{md.pol} m={md.m} p={md.p} {md.region} k={k!r} (Q_total {md.Q_total:.4g}): not a resonance; {near}")
                continue
        key = (best.m, best.k.real, best.k.imag)
        if "match" not in checks:
            matched[key] = md
            continue
        if key in matched:
            other = matched[key]
            rep.fail("match", f"{md.pol} m={md.m}: modes p={other.p} {other.region} and p={md.p} {md.region} are the same resonance k={best.k!r}")
            continue
        matched[key] = md
        rep.compared += 1
        err_l = abs(2000 * math.pi / k.real - best.wavelength_nm) / best.wavelength_nm
        rep.worst_wavelength = max(rep.worst_wavelength, err_l)
        q_ref = best.Q
        if abs(q_ref) <= Q_RELATIVE_UP_TO:
            q = md.Q_total
            err_q = abs(q / q_ref - 1) if math.isfinite(q) else math.inf
            if err_q > rep.worst_q:
                rep.worst_q = err_q
                rep.worst_q_mode = f"{md.pol} m={md.m} p={md.p} {md.region} at {md.wavelength_nm:.6f} nm, Q {q_ref:.4g}"
            bad_q = err_q > Q_REL_TOL
        else:
            err_q = abs(k.imag - best.k.imag) / abs(best.k)
            rep.worst_imag = max(rep.worst_imag, err_q)
            bad_q = err_q > IMAG_ABS_TOL_PER_K
        if err_l > REL_WAVELENGTH_TOL or bad_q:
            rep.fail(
                "match",
                f"{md.pol} m={md.m} p={md.p} {md.region}: wavelength {md.wavelength_nm!r} vs {best.wavelength_nm!r} "
                f"(rel {err_l:.2g}); Q_total {md.Q_total:.7g} vs {q_ref:.7g} (k {k!r} vs {best.k!r})",
            )

    if "missing" not in checks:
        return
    k_in_lo, k_in_hi = 2000 * math.pi / hi * (1 + EDGE_SKIP_REL), 2000 * math.pi / lo * (1 - EDGE_SKIP_REL)
    for r in ref.roots:
        if not (k_in_lo <= r.k.real <= k_in_hi):
            continue
        floor = MISSING_MARGIN * _floor_of(modes, case.pol, r.m, case.q_min, case, r.k.real)
        if abs(r.Q) < floor:
            continue
        rep.required += 1
        if (r.m, r.k.real, r.k.imag) in matched:
            continue
        rep.fail("missing", f"{r.pol} m={r.m} k={r.k!r}: {r.wavelength_nm:.9f} nm, Q {r.Q:.4g} (floor {floor / MISSING_MARGIN:.4g}) not in the census")


def _labels(rep: Report, modes):
    """3. (pol, m, nodes) unique (without ``nodes``: a failure, and (pol, m, p, region) is checked
    as well, for the diagnosis)."""
    seen: dict[tuple, object] = {}
    for md in modes:
        try:
            key = (md.pol, md.m, md.nodes)
        except AttributeError as exc:
            rep.fail("labels", f"Mode has no 'nodes' attribute ({exc})")
            old: dict[tuple, object] = {}
            for o in modes:
                key = (o.pol, o.m, o.p, o.region)
                if key in old:
                    rep.fail("labels", f"(pol, m, p, region) {key} labels both {old[key]!r} and {o!r}")
                old[key] = o
            return
        if key in seen:
            rep.fail("labels", f"(pol, m, nodes) {key} labels both {seen[key]!r} and {md!r}")
        seen[key] = md


def _lookups(rep: Report, case: Case, cyl, modes, lookups: int):
    """4. a mode looked up by its own labels is the same resonance."""
    import wgmfem

    t0 = time.perf_counter()
    if modes and lookups:
        order = sorted(range(len(modes)), key=lambda i: (modes[i].m, modes[i].k.real))
        chosen = sorted({order[(case.pick + j * 7919) % len(order)] for j in range(lookups)})
        for i in chosen:
            md = modes[i]
            rep.lookups += 1
            try:
                found = wgmfem.find_modes(cyl, pol=md.pol, m=md.m, p=md.p, region=md.region, q_min=case.q_min, fsr=False)
            except Exception as exc:  # noqa: BLE001
                rep.fail("lookup", f"find_modes(pol={md.pol}, m={md.m}, p={md.p}, region={md.region!r}) raised {type(exc).__name__}: {exc}")
                continue
            if not any(abs(complex(f.k) - complex(md.k)) <= LOOKUP_REL_TOL * abs(md.k) for f in found):
                got = ", ".join(f"{f.pol} m={f.m} p={f.p} {f.region} k={complex(f.k)!r}" for f in found) or "nothing"
                rep.fail("lookup", f"find_modes(pol={md.pol}, m={md.m}, p={md.p}, region={md.region!r}) returned {got}; census k={complex(md.k)!r}")
    rep.lookup_s += time.perf_counter() - t0


def _region(rep: Report, case: Case, cyl, modes):
    """5. the core census of the window is the full census filtered (region core, p <= P)."""
    import wgmfem

    core = [md for md in modes if md.region == "core"]
    if not core:
        return
    p_max = max(md.p for md in core)
    t0 = time.perf_counter()
    try:
        got = wgmfem.find_modes(cyl, pol=case.pol, wavelength_nm=case.window_nm, region="core", p=(1, p_max), q_min=case.q_min, fsr=False)
    except Exception as exc:  # noqa: BLE001
        rep.fail("region", f"find_modes(region='core', p=(1, {p_max})) raised {type(exc).__name__}: {exc}")
        return
    finally:
        rep.lookup_s += time.perf_counter() - t0
    same = lambda a, b: a.m == b.m and abs(complex(a.k) - complex(b.k)) <= LOOKUP_REL_TOL * abs(b.k)  # noqa: E731
    # each side is complete only above its own floor (verification['q_floor'])
    for md in core:
        if abs(md.Q_total) < MISSING_MARGIN * _floor_of(got, case.pol, md.m, case.q_min, case, md.k.real):
            continue
        if not any(same(g, md) for g in got):
            rep.fail("region", f"region='core', p=(1, {p_max}) lacks {md.pol} m={md.m} p={md.p} at {md.wavelength_nm:.9f} nm (Q_total {md.Q_total:.4g}) of the full census")
    for g in got:
        if abs(g.Q_total) < MISSING_MARGIN * _floor_of(modes, case.pol, g.m, case.q_min, case, g.k.real):
            continue
        if not any(same(g, md) for md in core):
            rep.fail("region", f"region='core', p=(1, {p_max}) returned {g.pol} m={g.m} p={g.p} {g.region} at {g.wavelength_nm:.9f} nm, not a core mode of the full census")


# --------------------------------------------------------------------------- statistics
PROFILES = {
    # name: (m cap, max window in FSR)
    "small": (60, 1.5),
    "long": (400, 3.0),
}


class _alarm:
    """Raise TimeoutError in the main thread after ``seconds`` (SIGALRM; no-op if None)."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __enter__(self):
        if self.seconds:
            import signal

            def handler(signum, frame):
                raise TimeoutError

            self.old = signal.signal(signal.SIGALRM, handler)
            signal.alarm(int(self.seconds))

    def __exit__(self, *exc):
        if self.seconds:
            import signal

            signal.alarm(0)
            signal.signal(signal.SIGALRM, self.old)
        return False


def run_statistics(examples: int, profile: str = "long", seed: int | None = None, verbose: bool = False,
                   timeout_s: int | None = 600) -> dict:
    """Run ``examples`` hypothesis examples of a profile without stopping at failures; return and
    print the statistics (examples, modes compared, worst errors, failures by check)."""
    from hypothesis import HealthCheck, Phase, given, settings

    m_cap, max_fsr = PROFILES[profile]
    reports: list[Report] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=seed is None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(cases(m_cap=m_cap, max_fsr=max_fsr))
    def one(case):
        t0 = time.perf_counter()
        try:
            with _alarm(timeout_s):
                rep = compare(case)
        except TimeoutError:
            rep = Report(case)
            rep.fail("timeout", f"example not finished in {timeout_s} s")
        wall = time.perf_counter() - t0
        reports.append(rep)
        if verbose:
            status = "ok" if rep.ok else ",".join(sorted(rep.failures) + (["reference"] if rep.reference_problems else []))
            print(
                f"[{len(reports)}] {case.kind:9s} {case.pol} layers={len(case.radii)} modes={rep.modes} "
                f"ref={rep.reference_roots} engine {rep.engine_s + rep.lookup_s:.2f}s ref {rep.reference_s:.2f}s "
                f"({wall:.1f}s) {status}",
                flush=True,
            )
            if not rep.ok:
                print("    " + case.reproducer(), flush=True)
                for check, msgs in rep.failures.items():
                    print(f"    [{check}] {msgs[0]}", flush=True)
                if rep.reference_problems:
                    print(f"    [reference] {rep.reference_problems[0]}", flush=True)

    if seed is not None:
        from hypothesis import seed as hseed

        one = hseed(seed)(one)
    t0 = time.perf_counter()
    one()
    wall = time.perf_counter() - t0
    stats = summarize(reports, wall)
    print(format_statistics(stats, reports, examples_shown=0 if verbose else 3))
    return stats


def summarize(reports: list[Report], wall_s: float = 0.0) -> dict:
    by_check: dict[str, int] = {}
    for rep in reports:
        for check in rep.failures:
            by_check[check] = by_check.get(check, 0) + 1
    return {
        "examples": len(reports),
        "by_kind": {k: sum(1 for r in reports if r.case.kind == k) for k in ("lossless", "absorbing", "gain")},
        "census_modes": sum(r.modes for r in reports),
        "reference_roots": sum(r.reference_roots for r in reports),
        "modes_compared": sum(r.compared for r in reports),
        "roots_required": sum(r.required for r in reports),
        "lookups": sum(r.lookups for r in reports),
        "worst_rel_wavelength": max((r.worst_wavelength for r in reports), default=0.0),
        "worst_rel_Q": max((r.worst_q for r in reports), default=0.0),
        "worst_rel_Q_where": max(reports, key=lambda r: r.worst_q).worst_q_mode + " of " + max(reports, key=lambda r: r.worst_q).case.reproducer() if reports else "",
        "worst_imag_over_k": max((r.worst_imag for r in reports), default=0.0),
        "examples_failing": sum(1 for r in reports if r.failures),
        "examples_failing_by_check": by_check,
        "reference_incomplete": sum(1 for r in reports if r.reference_problems),
        "engine_s": sum(r.engine_s + r.lookup_s for r in reports),
        "reference_s": sum(r.reference_s for r in reports),
        "wall_s": wall_s,
    }


def format_statistics(stats: dict, reports: list[Report] | None = None, examples_shown: int = 3) -> str:
    lines = [
        f"examples            : {stats['examples']} ({', '.join(f'{k} {v}' for k, v in stats['by_kind'].items())})",
        f"census modes        : {stats['census_modes']}; reference roots in the windows: {stats['reference_roots']}",
        f"modes compared      : {stats['modes_compared']} (check 1); reference roots required: {stats['roots_required']} (check 2); lookups: {stats['lookups']}",
        f"worst wavelength    : {stats['worst_rel_wavelength']:.2e} relative (tolerance {REL_WAVELENGTH_TOL:g})",
        f"worst Q_total       : {stats['worst_rel_Q']:.2e} relative for |Q| <= 1e9 (tolerance {Q_REL_TOL:g}); "
        f"{stats['worst_imag_over_k']:.2e} |d Im k|/|k| above (tolerance {IMAG_ABS_TOL_PER_K:g})",
        f"worst Q_total at    : {stats['worst_rel_Q_where']}",
        f"failing examples    : {stats['examples_failing']} {stats['examples_failing_by_check']}",
        f"reference incomplete: {stats['reference_incomplete']}",
        f"time                : engine {stats['engine_s']:.1f} s, reference {stats['reference_s']:.1f} s, wall {stats['wall_s']:.1f} s",
    ]
    if reports:
        bad = [r for r in reports if not r.ok]
        for rep in bad[:examples_shown]:
            lines.append("--")
            lines.append(rep.summary(limit=3))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="long")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: derandomized, reproducible)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per example before it counts as failed (0: none)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    stats = run_statistics(args.examples, args.profile, args.seed, args.verbose, args.timeout or None)
    return 0 if stats["examples_failing"] == 0 and stats["reference_incomplete"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
