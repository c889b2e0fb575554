"""The peer benchmark's bookkeeping (benchmarks/peers), without NGSolve: picking the fastest
run that reaches a target accuracy, the wgmfem/NGSolve ratio, the CSV, the memory-capped runner,
and that the benchmark's problem data is the exact solver's mode."""

import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.peers import analysis, problems, runner  # noqa: E402


def _row(solver, order, ppw, err, solve_s, status="ok", case="paper-sector", pol="Ez", variant="x"):
    spec = dict(case=case, pol=pol, solver=solver, variant=variant, threads=1, order=order, ppw=ppw)
    return dict(spec=spec, status=status, found=status == "ok", rel_err=err, solve_s=solve_s,
                process_s=solve_s + 1.0, unknowns=1000, factored=1000, peak_rss_gb=0.2)


ROWS = [
    _row("wgmfem", 4, 12, -4.9e-7, 1.0),
    _row("wgmfem", 4, 16, -6.7e-8, 1.5),
    _row("wgmfem", 4, 24, -3.7e-9, 2.5),
    _row("ngsolve", 5, 8, -9.2e-7, 0.2),
    _row("ngsolve", 5, 12, -7.1e-8, 0.4),
    _row("ngsolve", 6, 20, -1e-9, 0.1, status="memory cap"),  # killed runs never count
]


def test_fastest_run_reaching_each_target_and_ratio():
    e6, e7 = analysis.ratios(ROWS, "paper-sector", "Ez")
    assert (e6["wgmfem"]["spec"]["ppw"], e6["ngsolve"]["spec"]["ppw"]) == (12, 8)
    assert e6["ratio"] == pytest.approx(1.0 / 0.2)
    assert (e7["wgmfem"]["spec"]["ppw"], e7["ngsolve"]["spec"]["ppw"]) == (16, 12)
    assert e7["ratio"] == pytest.approx(1.5 / 0.4)
    # the same element order only: NGSolve has no P4 run here
    assert all(e["ngsolve"] is None and e["ratio"] is None for e in analysis.ratios(ROWS, "paper-sector", "Ez", order=4))
    # a target nobody reaches gives no ratio
    assert analysis.best(ROWS, 1e-12) is None
    assert "not reached" in analysis.ratio_table(analysis.ratios(ROWS, "rod-full", "Ez"))


def test_end_to_end_without_a_full_run_reaching_the_target_is_a_lower_bound():
    full = _row("ngsolve", 5, 6, -3e-4, 50.0, case="paper-full")
    e2e = analysis.end_to_end(ROWS + [full])
    assert not e2e["ngsolve_reached"]
    assert e2e["speedup"] == pytest.approx(51.0 / 2.0)


def test_csv_has_one_line_per_run_and_marks_missing_modes():
    rows = ROWS + [dict(_row("wgmfem", 3, 12, None, 1.0), found=False)]
    text = analysis.to_csv(rows)
    lines = text.strip().splitlines()
    assert lines[0].split(",") == analysis.CSV_FIELDS
    assert len(lines) == len(rows) + 1
    assert lines[-1].split(",")[analysis.CSV_FIELDS.index("status")] == "mode not found"


def test_runner_kills_a_process_above_the_memory_cap(monkeypatch):
    # a worker that allocates ~0.6 GB must be stopped by a 0.2 GB cap (the real cap is 8 GB)
    script = "import numpy as np, time; a = np.ones(80_000_000); time.sleep(30)"
    monkeypatch.setattr(runner.subprocess, "Popen", _popen_with(script))
    out = runner.run_spec({"case": "x"}, cap_gb=0.2, timeout_s=20)
    assert out["status"] == "memory cap" and out["peak_rss_gb"] > 0.2 and out["process_s"] < 20


def _popen_with(script):
    real = runner.subprocess.Popen

    def popen(cmd, **kw):
        return real([sys.executable, "-c", script], **kw)

    return popen


def test_problem_reference_is_the_exact_mode_and_the_closure_is_harmless():
    spec = problems.paper_problem("Ez")
    lam = 2e3 * math.pi / spec["k_ref"][0]
    assert lam == pytest.approx(432.0877, abs=1e-4)  # docs/theory.md section 7
    # the Dirichlet walls lie beyond the caustics: the closed 1-D problem has the same mode
    import wgmfem
    from wgmfem.fem.radial import solve_radial

    # air out to the closing wall at r_end as a third layer, Dirichlet there and at the cut
    radii = tuple(spec["bounds_um"][1:])
    closed_cyl = wgmfem.LayeredCylinder(radii, tuple(spec["region_index"]), 1.0)
    assert radii[-1] == spec["r_end_um"]
    closed = solve_radial(closed_cyl, "Ez", 600, spec["k_ref"][0], num_modes=4, outer_boundary="dirichlet",
                          r_min_um=spec["r_cut_um"], order=5, points_per_wavelength=30)
    assert min(abs(closed.k.real / spec["k_ref"][0] - 1)) < 1e-9
