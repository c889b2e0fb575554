"""The exact field map: sized to the mode for any p, at equal aspect, with a labelled
colourbar; the log map reaches the tails. The 2-D FEM map draws the interfaces as meshed."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import wgmfem  # noqa: E402
import wgmfem.plot  # noqa: E402
from wgmfem.cli import main  # noqa: E402
from wgmfem.plot import MAP_THRESHOLD, field_map, plot_fem_field, plot_field_map  # noqa: E402


def paper_mode(p):
    return wgmfem.find_modes(wgmfem.Capillary(), pol="Ez", m=600, p=p, region="core", fsr=False)[0]


def test_the_map_of_a_p2_mode_covers_the_mode_not_the_wall():
    md = paper_mode(2)
    x, y, value = field_map(md)
    r = np.hypot(x, y)
    # |Ez|^2 of this mode is ~1e-2 of its peak all through the 12 um wall: the linear map keeps
    # to where it exceeds 5 %, the two maxima around the bore (26.3 and 26.9 um)
    assert r.min() < 26.0 and r.max() > 27.2 and r.max() - r.min() < 6.0
    intensity = np.abs(md.field(np.concatenate([np.linspace(25, 28, 600), [r.min(), r.max()]]))) ** 2
    edge = intensity[-2:] / intensity.max()  # Mode.field normalizes over the points it is given
    assert np.all(edge < MAP_THRESHOLD)  # the window ends where the field has fallen below the threshold
    width = x.max() - x.min()
    assert 0.5 < width / (r.max() - r.min()) < 2.0  # about as wide as deep
    _, _, log_value = field_map(md, log=True)
    assert log_value.min() >= -6 and np.hypot(*field_map(md, log=True)[:2]).max() > 39.0  # the wall is in the log map


def test_the_map_has_equal_aspect_and_a_labelled_colourbar():
    fig, ax = plt.subplots()
    try:
        plot_field_map(paper_mode(1), ax)
        assert ax.get_aspect() == 1.0
        bars = [a for a in fig.axes if a is not ax]
        assert bars and "Ez" in bars[0].get_ylabel()
        assert len(ax.get_xticks()) <= 6
    finally:
        plt.close(fig)


def on_ellipse(line, xc, yc, a, b):
    """Largest distance-like miss (um) of a line's points from the ellipse (xc, yc, a, b)."""
    x, y = (np.asarray(v, dtype=float) for v in line.get_data())
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    return np.max(np.abs(np.hypot((x - xc) / a, (y - yc) / b) - 1)) * max(a, b)


def test_the_fem_map_draws_the_interfaces_it_is_given():
    """One black line per interface crossing the map, on its curve: the concentric circles by
    default, an offset elliptical bore as given; one outside the map is not drawn."""
    md = paper_mode(1)
    r = np.linspace(25.5, 28.0, 60)
    phi = np.pi / 2 + np.linspace(-0.01, 0.01, 90)
    u = np.cos(600 * phi)[None, :] * np.exp(-((r - 26.7) / 0.4) ** 2)[:, None]
    bore = (0.3, 0.0, 27.0 * 1.005, 27.0 * 0.995)  # offset 0.3 um, ellipticity 0.01
    for interfaces, expected in ((None, (0.0, 0.0, 27.0, 27.0)), ([bore, (0.0, 0.0, 39.0, 39.0)], bore)):
        fig, (left, right) = plt.subplots(1, 2)
        try:
            plot_fem_field(r, phi, u, md, md, left, right, interfaces=interfaces)
            (line,) = left.get_lines()  # the wall/outside interface (39 um) lies outside the map
            assert line.get_color() == "k" and line.get_linewidth() == 0.8  # as the exact map's
            assert on_ellipse(line, *expected) < 1e-9
            x = line.get_xdata()
            assert np.nanmin(x) <= left.get_xlim()[0] and np.nanmax(x) >= left.get_xlim()[1]  # across the map
        finally:
            plt.close(fig)


def test_the_cli_fem_map_of_a_perturbed_fibre_draws_the_meshed_boundaries(tmp_path, monkeypatch, capsys):
    """wgmfem field --engine fem2d on an offset elliptical bore in an elliptical fibre (the full
    section, ~4 s): the bore and the outer surface drawn as the mesh has them."""
    monkeypatch.setenv("WGMFEM_MESH_CACHE", str(tmp_path / "meshes"))
    drawn = []
    original = wgmfem.plot.plot_fem_field

    def keep_axes(*args, **kwargs):
        out = original(*args, **kwargs)
        drawn.append(args[5])  # the map's axes
        return out

    monkeypatch.setattr(wgmfem.plot, "plot_fem_field", keep_axes)
    code = main(["field", "--engine", "fem2d", "--inner-diameter", "6", "--outer-diameter", "8", "--core", "1.8",
                 "--pol", "Ez", "--m", "12", "--order", "2", "--mesh-size", "8", "--bore-offset", "0.1",
                 "--ellipticity", "0.04:0.02", "--output", str(tmp_path / "f.png"), "--quiet"])
    capsys.readouterr()
    assert code == 0 and len(drawn) == 1
    bore, surface = drawn[0].get_lines()
    assert on_ellipse(bore, 0.1, 0.0, 3.0 * 1.02, 3.0 * 0.98) < 1e-9  # semi-axes R (1 +- e/2), centre moved
    assert on_ellipse(surface, 0.0, 0.0, 4.0 * 1.01, 4.0 * 0.99) < 1e-9


def test_fem_map_of_a_narrow_sector_has_readable_x_labels():
    """The 2-D FEM map of an m = 600 sector is ~0.7 um wide at 27 um: its x tick labels must
    not overlap each other (measured on the rendered figure)."""
    md = paper_mode(1)
    r = np.linspace(24.8, 28.6, 60)
    phi = np.pi / 2 + np.linspace(-3 * np.pi / 600, 3 * np.pi / 600, 40)
    u = np.outer(np.exp(-((r - 26.75) ** 2)), np.cos(600 * phi))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    plot_fem_field(r, phi, u, md, md, left, right)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in left.get_xticklabels() if t.get_text() and t.get_visible()]
    boxes = [b for b, t in zip(boxes, left.get_xticklabels()) if left.get_xlim()[0] <= t.get_position()[0] <= left.get_xlim()[1]]
    assert len(boxes) >= 2
    for a, b in zip(boxes[:-1], boxes[1:]):
        assert not a.overlaps(b)
    plt.close(fig)
