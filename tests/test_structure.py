"""The package's structure: no import cycles, no private name imported from another module,
and a Mode built one way (keywords only)."""

import ast
from pathlib import Path

import pytest

import wgmfem

PACKAGE = Path(wgmfem.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, list[tuple[str, list[str]]]]:
    """Per module: (imported module, names) of every relative import, at any depth."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found = []
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                for alias in node.names:
                    sub = target + "." + alias.name
                    is_module = (PACKAGE.parent / Path(*sub.split("."))).with_suffix(".py").exists()
                    found.append((sub, []) if is_module else (target, [alias.name]))
        out[name] = found
    return out


def test_no_import_cycles():
    graph = {m: {t for t, _ in deps if t != m} for m, deps in _imports().items()}
    cycles = set()
    for start in graph:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    cycles.add(" -> ".join(path + [start]))
                elif nxt not in path:
                    stack.append((nxt, path + [nxt]))
    assert not cycles, sorted(cycles)


def test_no_private_name_is_imported_from_another_module():
    private = [
        f"{module} imports {name} from {target}"
        for module, deps in _imports().items()
        for target, names in deps
        for name in names
        if name.startswith("_") and not name.startswith("__") and target != module
    ]
    assert not private, private


def test_a_mode_is_built_with_keywords_only_and_is_frozen():
    md = wgmfem.find_modes(wgmfem.Capillary(), pol="Ez", m=600, p=1, fsr=False)[0]
    with pytest.raises(TypeError):
        wgmfem.Mode(md.pol, md.m, md.p, md.region, md.k, md.cylinder, md.energy_fractions)
    with pytest.raises(AttributeError):
        md.fsr_nm = 1.0  # type: ignore[misc]


def test_capillary_takes_material_names_as_the_command_line_does():
    stack = wgmfem.Capillary(54, 78, core_index="toluene", wall_index="fused-silica")
    assert isinstance(stack, wgmfem.geometry.MaterialStack)
    same = wgmfem.geometry.capillary_stack(54, 78, core="toluene", wall="fused-silica")
    lam = 440.0
    assert stack.at(lam).indices == same.at(lam).indices
    assert isinstance(wgmfem.Capillary(54, 78, 1.5, 1.45), wgmfem.LayeredCylinder)


def test_one_version_source():
    from importlib.metadata import version

    assert version("wgmfem") == wgmfem.__version__


def test_one_module_builds_each_fem_engines_modes():
    """fem2d modes come from wgmfem/fem/engine2d.py only (the engine and the study driver share
    its record), fem1d modes from wgmfem/fem/engine1d.py only."""
    for engine, home in (("fem2d", "fem/engine2d.py"), ("fem1d", "fem/engine1d.py")):
        builders = {
            str(path.relative_to(PACKAGE))
            for path in PACKAGE.rglob("*.py")
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.keyword) and node.arg == "engine"
            and isinstance(node.value, ast.Constant) and node.value.value == engine
            and path.name != "solve.py"  # find_modes(engine=...) calls, not Mode construction
        }
        assert builders <= {home}, builders


def test_wavelength_and_k_are_converted_in_one_place():
    """lambda (nm) <-> k (1/um) goes through wgmfem.units, not through 2e3 pi written inline."""
    inline = [
        f"{path.relative_to(PACKAGE)}:{i}"
        for path in PACKAGE.rglob("*.py") if path.name != "units.py"
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if "2e3 * math.pi" in line or "2e3 * np.pi" in line
    ]
    assert not inline, inline
