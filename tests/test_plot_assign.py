"""The figure of a mode assignment (wgmfem.plot_assign): panels, tick rows of the predicted
modes, the outlier, the residuals, the legend's place, saving."""

import dataclasses

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from wgmfem.assign import assign_peaks  # noqa: E402
from wgmfem.geometry import Capillary  # noqa: E402
from wgmfem.plot_assign import _spread, plot_assignment, plot_window_nm  # noqa: E402
from wgmfem.solve import find_modes  # noqa: E402

OUTLIER_NM = 437.6488  # between the modes: not a mode of the p = 1 families


@pytest.fixture(scope="module")
def assignment():
    """Eight p = 1 core modes with 5 pm noise and one stray peak, assigned from a bore 0.4 um off."""
    modes = find_modes(Capillary(54.3), pol="both", wavelength_nm=(436, 439), p=(1, 1), region="core", fsr=False)
    rng = np.random.default_rng(1)
    peaks = np.append([md.wavelength_nm for md in modes] + rng.normal(0, 0.005, len(modes)), OUTLIER_NM)
    return assign_peaks(peaks, Capillary(53.9), sigma_nm=0.005)


@pytest.fixture(scope="module")
def predicted(assignment):
    return assignment.predicted_modes(plot_window_nm(assignment))


@pytest.fixture(scope="module")
def figure(assignment):
    fig = plot_assignment(assignment)
    fig.canvas.draw()
    yield fig
    plt.close(fig)


def by_gid(ax, prefix):
    return [art for art in ax.get_children() if (art.get_gid() or "").startswith(prefix)]


def outlier_index(a):
    return int(np.argmin(np.abs(a.peaks_nm - OUTLIER_NM)))


def test_two_panels_sharing_the_wavelength_axis(figure):
    top, bottom = figure.axes
    assert top.get_shared_x_axes().joined(top, bottom)
    assert bottom.get_xlabel() == "wavelength (nm)"
    assert top.get_position().height > 2 * bottom.get_position().height


def test_one_tick_row_per_family_at_every_predicted_mode(figure, assignment, predicted):
    top = figure.axes[0]
    families = {(lab.pol, lab.p) for lab, _ in predicted}
    rows = by_gid(top, "modes ")
    assert len(rows) == len(families) >= 2
    labels = [t.get_text() for t in top.get_yticklabels()]
    for pol, p in families:
        (row,) = [r for r in rows if r.get_gid() == f"modes {pol} p={p}"]
        xs = sorted(seg[0, 0] for seg in row.get_segments())
        expected = sorted(lam for lab, lam in predicted if (lab.pol, lab.p) == (pol, p))
        assert np.allclose(xs, expected)
        assert f"{pol} p={p}" in labels
    # the rows show modes without a peak too: more predicted modes than assigned peaks
    assigned = sum(assignment.label(i) is not None for i in range(len(assignment.peaks_nm)))
    assert len(predicted) > assigned
    lo, hi = top.get_xlim()
    assert all(lo < lam < hi for _, lam in predicted)


def test_the_outlier_is_drawn_and_labelled(figure, assignment):
    top = figure.axes[0]
    i = outlier_index(assignment)
    assert assignment.label(i) is None
    (stick,) = by_gid(top, f"outlier {i}")
    assert np.isclose(stick.get_segments()[0][0, 0], assignment.peaks_nm[i])
    assert stick.get_linestyle()[0][1] is not None  # dashed
    (text,) = by_gid(top, f"label {i}")
    assert text.get_text().startswith("outlier")
    assert len(by_gid(top, "outlier ")) == 1


def test_assigned_peaks_are_labelled_pol_m_p(figure, assignment):
    top = figure.axes[0]
    for i in range(len(assignment.peaks_nm)):
        lab = assignment.label(i)
        if lab is None:
            continue
        (text,) = by_gid(top, f"label {i}")
        doubt = "?" if assignment.peak_alternatives[i] else ""
        assert text.get_text() == f"{lab.pol} {lab.m}/{lab.p}{doubt}"
        assert by_gid(top, f"peak {i}")


def test_residual_panel_holds_exactly_the_assigned_peaks(figure, assignment):
    bottom = figure.axes[1]
    points = by_gid(bottom, "residuals ")
    xs = np.sort(np.concatenate([line.get_xdata() for line in points]))
    ys = np.concatenate([line.get_ydata() for line in points])
    assigned = [i for i in range(len(assignment.peaks_nm)) if assignment.label(i) is not None]
    assert np.allclose(xs, np.sort(assignment.peaks_nm[assigned]))
    expected = assignment.peaks_nm[assigned] - assignment.best.model_nm[assigned]
    assert np.allclose(np.sort(ys), np.sort(expected))
    assert by_gid(bottom, "sigma band")  # one sigma for all peaks
    assert "outlier" in bottom.get_title(loc="left")


def test_no_sigma_band_when_sigma_differs_between_peaks(assignment):
    sigma = np.linspace(0.004, 0.006, len(assignment.peaks_nm))
    fig = plot_assignment(dataclasses.replace(assignment, sigma_nm=sigma))
    try:
        assert not by_gid(fig.axes[1], "sigma band")
    finally:
        plt.close(fig)


def boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_legend_stays_off_the_data(figure):
    top, bottom = figure.axes
    legend = top.get_legend()
    assert legend is not None and legend.get_gid() == "legend"
    box = legend.get_window_extent()
    assert not boxes_overlap(box, top.get_window_extent())
    assert not boxes_overlap(box, bottom.get_window_extent())
    fig_box = figure.bbox
    assert fig_box.x0 <= box.x0 and box.x1 <= fig_box.x1 + 1  # inside the figure


def test_peak_labels_apart_and_inside_the_axes(figure, assignment):
    top = figure.axes[0]
    area = top.get_window_extent()
    boxes = [by_gid(top, f"label {i}")[0].get_window_extent() for i in range(len(assignment.peaks_nm))]
    for k, box in enumerate(boxes):
        assert area.y0 < box.y0 and box.y1 < area.y1
        assert not any(boxes_overlap(box, other) for other in boxes[k + 1:])


def test_title_gives_the_fit(figure, assignment):
    title = figure.get_suptitle()
    assert "D = 54.3" in title and "um" in title
    assert ("AMBIGUOUS" in title) == assignment.ambiguous


def test_spectrum_into_a_given_figure(assignment, tmp_path):
    x = np.linspace(assignment.peaks_nm.min() - 0.5, assignment.peaks_nm.max() + 0.5, 4000)
    y = 10 + sum(100 / (1 + ((x - c) / 0.01) ** 2) for c in assignment.peaks_nm)
    fig = plt.figure(figsize=(9, 6))
    try:
        assert plot_assignment(assignment, fig=fig, spectrum=(x, y), title="my title") is fig
        fig.canvas.draw()
        top = fig.axes[0]
        (line,) = by_gid(top, "spectrum")
        assert 0.0 <= np.min(line.get_ydata()) and np.max(line.get_ydata()) <= 1.0 + 1e-12
        assert not boxes_overlap(top.get_legend().get_window_extent(), top.get_window_extent())
        assert fig.get_suptitle() == "my title"
        fig.savefig(tmp_path / "spectrum.svg")
    finally:
        plt.close(fig)


def test_saves_png(figure, tmp_path):
    path = tmp_path / "assignment.png"
    figure.savefig(path, dpi=80)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_spread_keeps_the_gap_and_the_mean():
    x = np.array([0.0, 1.0, 2.0, 30.0, 31.0, 100.0])
    out = _spread(x, 9.0)
    assert np.all(np.diff(out) >= 9.0 - 1e-12)
    assert np.isclose(out[:3].mean(), 1.0) and out[-1] == 100.0
    assert np.allclose(_spread(np.array([0.0, 20.0]), 9.0), [0.0, 20.0])
