"""Tables, ratios, CSV/JSON and the accuracy-vs-time plot of the peer benchmark.

Pure functions of the result rows (``runner.run_spec`` dicts): no NGSolve needed, so they are
unit-tested. Errors are relative wavelength differences to the exact solver
(lambda_FEM / lambda_exact - 1); times in s; memory in GB.
"""

from __future__ import annotations

import csv
import io
import json
import math

TARGETS = (1e-6, 1e-7)
#: the set-ups run over the whole grid (solid lines in the plot; the others dotted)
MAIN_VARIANTS = ("auto", "Arnoldi+cholesky")
CSV_FIELDS = ["case", "pol", "solver", "variant", "threads", "order", "ppw", "outer_ppw", "unknowns", "factored", "status",
              "rel_err", "Q", "q_rel_err", "solve_s", "process_s", "peak_rss_gb", "mesh_s", "eig_s"]


def flat(row: dict) -> dict:
    """One CSV row of a result."""
    spec, t = row["spec"], row.get("timings", {})
    out = {k: spec.get(k) for k in ("case", "pol", "solver", "variant", "threads", "order", "ppw", "outer_ppw")}
    out.update({k: row.get(k) for k in ("unknowns", "factored", "status", "rel_err", "Q", "q_rel_err",
                                        "solve_s", "process_s", "peak_rss_gb")})
    out["mesh_s"] = t.get("mesh")
    out["eig_s"] = t.get("eigensolve")
    if row.get("status") == "ok" and not row.get("found"):
        out["status"] = "mode not found"
    return out


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(flat(r))
    return buf.getvalue()


def to_json(rows: list[dict], meta: dict) -> str:
    return json.dumps({"meta": meta, "runs": rows}, indent=1, default=str)


def reached(row: dict, target: float) -> bool:
    """True if the run found the mode with |relative wavelength error| <= target."""
    return row.get("status") == "ok" and row.get("found", False) and abs(row.get("rel_err", math.inf)) <= target


def best(rows: list[dict], target: float, key: str = "solve_s", **match) -> dict | None:
    """The fastest run (by ``key``) reaching ``target`` among rows whose spec matches ``match``."""
    cands = [r for r in rows if all(r["spec"].get(k) == v for k, v in match.items()) and reached(r, target)]
    return min(cands, key=lambda r: r[key]) if cands else None


def ratios(rows: list[dict], case: str, pol: str, key: str = "solve_s", **match) -> list[dict]:
    """Per target: wgmfem's and NGSolve's fastest runs and the time ratio wgmfem / NGSolve
    (``match``: further spec filters, e.g. ``order=4`` for the same element order)."""
    out = []
    for target in TARGETS:
        wg = best(rows, target, key, case=case, pol=pol, solver="wgmfem", **match)
        ng = best(rows, target, key, case=case, pol=pol, solver="ngsolve", **match)
        ratio = wg[key] / ng[key] if wg and ng else None
        out.append(dict(case=case, pol=pol, target=target, wgmfem=wg, ngsolve=ng, ratio=ratio))
    return out


def ppw_label(spec: dict) -> str:
    """Points per wavelength, ``8/4`` when the air and the PML have their own (4)."""
    return f"{spec['ppw']:g}" + (f"/{spec['outer_ppw']:g}" if spec.get("outer_ppw") else "")


def _setting(row: dict | None, key: str) -> str:
    if row is None:
        return "not reached"
    s = row["spec"]
    name = f"P{s['order']} ppw {ppw_label(s)}"
    if s["solver"] == "ngsolve":
        name += f" {s['variant']}"
    name += f", {s.get('threads', 2)} thr"
    return f"{row[key]:.2f} s ({name}, N={row['unknowns']}, err {row['rel_err']:+.1e})"


def ratio_table(entries: list[dict], key: str = "solve_s") -> str:
    """Markdown table of :func:`ratios` entries."""
    lines = ["| case | pol | target | wgmfem fastest | NGSolve fastest | ratio wgmfem/NGSolve |",
             "| --- | --- | --- | --- | --- | --- |"]
    for e in entries:
        ratio = f"{e['ratio']:.2f}" if e["ratio"] is not None else "-"
        lines.append(f"| {e['case']} | {e['pol']} | {e['target']:.0e} | {_setting(e['wgmfem'], key)} | "
                     f"{_setting(e['ngsolve'], key)} | {ratio} |")
    return "\n".join(lines)


def runs_table(rows: list[dict]) -> str:
    """Markdown table of every run."""
    lines = ["| case | pol | solver | variant | thr | P | ppw | unknowns (factored) | wavelength err | Q err | "
             "solve s | process s | peak GB | status |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        f = flat(r)
        err = f"{f['rel_err']:+.2e}" if f["rel_err"] is not None else "-"
        qerr = f"{f['q_rel_err']:+.1e}" if f["q_rel_err"] is not None else "-"
        solve = f"{f['solve_s']:.2f}" if f["solve_s"] is not None else "-"
        peak = f"{f['peak_rss_gb']:.2f}" if f["peak_rss_gb"] is not None else "-"
        unk = f"{f['unknowns']} ({f['factored']})" if f["unknowns"] is not None else "-"
        lines.append(f"| {f['case']} | {f['pol']} | {f['solver']} | {f['variant']} | {f['threads']} | {f['order']} | "
                     f"{ppw_label(r['spec'])} | {unk} | {err} | {qerr} | {solve} | {f['process_s']:.2f} | {peak} | {f['status']} |")
    return "\n".join(lines)


def end_to_end(rows: list[dict], target: float = 1e-6) -> dict:
    """wgmfem's sector (fastest whole process reaching target, Ez) against the NGSolve full annulus.

    If no full-annulus run reached the target (memory cap), the NGSolve entry is its most
    accurate run, and the ratio is a lower bound on NGSolve's time.
    """
    wg = best(rows, target, "process_s", case="paper-sector", pol="Ez", solver="wgmfem")
    full = [r for r in rows if r["spec"]["case"] == "paper-full" and r["spec"]["solver"] == "ngsolve"]
    ng = best(full, target, "process_s")
    lower_bound = False
    if ng is None:
        done = [r for r in full if r.get("status") == "ok" and r.get("found")]
        ng = min(done, key=lambda r: abs(r["rel_err"])) if done else None
        lower_bound = True
    speedup = ng["process_s"] / wg["process_s"] if (wg and ng) else None
    return dict(target=target, wgmfem=wg, ngsolve=ng, speedup=speedup, ngsolve_reached=not lower_bound)


def plot(rows: list[dict], path, title_note: str = "") -> None:
    """Accuracy (|relative wavelength error|) against solve time, one panel per problem.

    Lines: the mesh-size sweeps (sorted by points per wavelength) of each code's main set-ups,
    one per element order; hollow markers: the other set-ups; a star: NGSolve's full annulus.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    panels = [("paper-sector", "Ez"), ("paper-sector", "Hz"), ("rod-full", "Ez")]
    titles = {"paper-sector": "paper capillary, sector 2$\\pi$/600", "rod-full": "rod r=3 um, full section + PML"}
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.4))
    colors = {("wgmfem", "auto"): "tab:blue", ("wgmfem", "pardiso"): "tab:cyan", ("ngsolve", "Arnoldi+cholesky"): "tab:red"}
    markers = {3: "^", 4: "o", 5: "s", 6: "D"}
    ok = [r for r in rows if r.get("status") == "ok" and r.get("found")]
    for ax, (case, pol) in zip(axes, panels):
        lines, others = {}, []
        for r in ok:
            s = r["spec"]
            if s["pol"] != pol or s["case"] not in (case, "paper-full" if case == "paper-sector" else case):
                continue
            key = (s["solver"], s["variant"])
            if s["case"] == case and s.get("threads") == 1 and key in colors:
                lines.setdefault((key, s["order"], bool(s.get("outer_ppw"))), []).append(r)
            else:
                others.append(r)
        for ((solver, variant), order, graded), rs in sorted(lines.items(), key=str):
            rs.sort(key=lambda r: (r["spec"]["ppw"], r["spec"].get("outer_ppw") or 0))
            ax.plot([r["solve_s"] for r in rs], [max(abs(r["rel_err"]), 1e-12) for r in rs], marker=markers[order],
                    color=colors[(solver, variant)], ls="--" if graded else "-",
                    label=f"{solver} P{order} ({variant}{', coarse air/PML' if graded else ''})", lw=1.2, ms=5)
        for j, r in enumerate(others):
            s = r["spec"]
            full = s["case"] == "paper-full"
            ax.plot(r["solve_s"], max(abs(r["rel_err"]), 1e-12), linestyle="none",
                    marker="*" if full else markers.get(s["order"], "x"), ms=12 if full else 6, fillstyle="none",
                    color="tab:red" if s["solver"] == "ngsolve" else "tab:blue",
                    label=("NGSolve FULL annulus, P5 (2.9 M unknowns)" if full else
                           ("other set-ups (hollow): threads, PARDISO, condensation" if j == 0 else None)))
        for t in TARGETS:
            ax.axhline(t, color="gray", lw=0.6, ls="--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        lo, hi = ax.get_xlim()
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(FormatStrFormatter("%g") if hi / lo < 10 else NullFormatter())
        ax.set_xlabel("solve time (s): mesh, assembly, eigen-solve, identification")
        ax.set_ylabel("|relative wavelength error|")
        ax.set_title(f"{titles[case]}, {pol}", fontsize=10)
        ax.legend(fontsize=6, loc="upper right", framealpha=0.7)
        ax.grid(True, which="both", lw=0.3)
    fig.suptitle(f"wgmfem vs NGSolve, same problems, one thread each{title_note}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
