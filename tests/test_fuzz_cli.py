"""Fuzzing the command line: random command lines of every subcommand, in-process.

Each option takes values from its grammar and beyond it: numbers (0, negative, huge, tiny, nan,
inf, malformed), ranges (reversed, empty, three parts), unknown names, files that are folders or
in missing folders. Whatever the input: exit code 0, 2 or 3, no exception out of
``wgmfem.cli.main``, stderr lines all ``wgmfem: ...``, and on exit 0 with JSON output, strict
JSON (no NaN or Infinity).

The valid values are chosen so that a valid command stays small (narrow windows, small fibres,
a low --max-unknowns, one sweep point in this process): each example is bounded by EXAMPLE_SECONDS,
and a longer one fails the test (a hang, or work the limits should have refused).
The default run draws SMALL_EXAMPLES command lines; ``pytest -m slow`` draws LARGE_EXAMPLES.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, note, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from wgmfem.cli import main  # noqa: E402

SMALL_EXAMPLES = int(os.environ.get("WGMFEM_FUZZ_EXAMPLES", "30"))
LARGE_EXAMPLES = int(os.environ.get("WGMFEM_FUZZ_LARGE_EXAMPLES", "2000"))
EXAMPLE_SECONDS = 30

_COMMON = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])

# -- tokens: (valid values, hostile values) -----------------------------------------------------
BAD_NUMBERS = ["0", "-1", "-0.0", "nan", "inf", "-inf", "1e999", "1e308", "1e-308", "1e-300", "abc", "", "0x10", "1,5", "1e30"]
LENGTHS = (["6", "8", "10", "14"], ["2e-3", "1e5", "3e5"] + BAD_NUMBERS)
INDICES = (["1.56", "1.47", "1.33", "1.56+1e-4j", "toluene", "fused-silica", "water"],
           ["1.5-1e-3j", "1.56+nanj", "unobtainium", "missing.yml", "1e300", "1e-300", "0", "-1.5", "nan", "200", "1.5+200j"])
LAYERS = (["3:1.56", "3:1.56,4:1.47", "3:toluene", "2:1.45,3:1.6,4:1.4"],
          ["4:1.56,3:1.47", "3", "3:1.56:2", "nan:1.5", "1e30:1.5", ",", "", "3:1.56,3.0000001:1.4", "0.0005:1.5", "-3:1.5"])
WINDOWS = (["1500:1510", "900:902", "1200:1203"],
           ["432", "432:431", "a:b", "1:2:3", ":", "nan:inf", "1e-300:1e-299", "10:100000", "0:1", "-5:5", "1:2",
            "431:431", "1e6:2e6", "inf:inf", "400:500"])
M_VALUES = (["0", "5", "20", "18:20", "0:3"],
            ["-1", "1e3", "100000000", "0:100000000", "any", "3:1", "99999999999999999999999", "1:2:3", "", "1000000", "600"])
P_VALUES = (["1", "2", "1:2"], ["0", "-3", "196", "any", "100000000", "2:1", "x"])
POLS = (["Ez", "Hz", "both", "TE", "tm"], ["XY", ""])
REGIONS = (["core", "wall", "any", "auto"], ["outside", "mantle", ""])
Q_VALUES = (["2", "100", "1e6"], ["1e300"] + BAD_NUMBERS)
FILES = (["out.json", "out.csv"], ["outdir", "missing/out.json"])
FIGURES = (["f.png"], ["f.bmp", "outdir", "missing/f.png"])  # (an SVG map takes ~10 s to write)
INTS = (["1", "2", "3"], ["0", "-1", "x", "1e3", "99999999999999999999999"])
FORMATS = (["table", "json"], ["xml"])


def token(values: tuple[list[str], list[str]]):
    """A valid value three times out of four, else a hostile one."""
    valid, hostile = values
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), st.sampled_from(valid), st.sampled_from(hostile))


@st.composite
def options(draw, spec: dict[str, tuple], flags: tuple[str, ...] = ()) -> list[str]:
    """Some of the options in ``spec`` ({option: (valid, hostile)}), each with one value, and some flags."""
    argv = []
    for option, values in spec.items():
        if draw(st.booleans()):
            argv += [option, draw(token(values))]
    for flag in flags:
        if draw(st.booleans()):
            argv.append(flag)
    return argv


@st.composite
def geometry(draw, layers: bool = True) -> list[str]:
    """A small capillary or rod usually (cheap valid commands), else anything."""
    kind = draw(st.sampled_from(["rod", "capillary", "other"] if layers else ["capillary", "other"]))
    if kind == "rod":
        return ["--layers", "3:1.56"]
    if kind == "capillary":
        return ["--inner-diameter", "6", "--outer-diameter", "8"]
    spec = {"--inner-diameter": LENGTHS, "--outer-diameter": LENGTHS, "--core": INDICES, "--wall": INDICES, "--outside": INDICES}
    if layers and draw(st.booleans()):
        return ["--layers", draw(token(LAYERS))] + draw(options({"--outside": INDICES}, ("--strict",)))
    return draw(options(spec, ("--strict",)))


FEM2D = {"--order": (["2", "4", "6"], ["7", "-1", "x"]), "--mesh-size": (["4", "8"], ["1e6", "0", "nan"]),
         "--bore-offset": (["0.2", "0.5"], ["20", "-1", "nan", "1e300"]),
         "--ellipticity": (["0.02", "0.05:0.01"], ["1.5", "x", "nan"]), "--sector": (["auto", "full"], ["half"]),
         "--max-unknowns": (["20000"], ["0", "nan", "x", "1e300"])}
VERIFY = {"--fem-tolerance": (["1e-3"], ["0", "nan", "1"]), "--fem-q-tolerance": (["0.5"], ["-1", "inf"])}


@st.composite
def modes_argv(draw) -> list[str]:
    argv = ["modes"] + draw(geometry())
    if draw(st.booleans()):  # one label wherever it lies: the FEM engines may refine it
        argv += ["--m", draw(token(M_VALUES)), "--p", draw(token(P_VALUES))]
        engine = draw(st.sampled_from(["exact", "exact", "fem1d", "fem2d", "bogus"]))
        argv += ["--engine", engine, "--max-unknowns", "20000"]
        if engine != "exact":
            argv += draw(options({**FEM2D, **VERIFY}, ("--unverified",)))
    else:
        argv += ["--wavelength", draw(token(WINDOWS))] + draw(options({"--m": M_VALUES, "--p": P_VALUES}))
    argv += draw(options({"--pol": POLS, "--region": REGIONS, "--q-min": Q_VALUES, "--extra-q": Q_VALUES,
                          "--extra-loss": Q_VALUES, "--format": (["table", "json", "csv"], ["xml"]), "--output": FILES},
                         ("--no-fsr", "--quiet")))
    return argv


@st.composite
def field_argv(draw) -> list[str]:
    argv = ["field"] + draw(geometry()) + ["--m", draw(token((["20", "0", "5"], ["-1", "x", "100000000", "1e3"])))]
    argv += draw(options({"--p": (["1", "2"], ["0", "x"]), "--pol": POLS, "--region": REGIONS,
                          "--periods": (["3", "30", "1e-9"], ["31", "1e9"] + BAD_NUMBERS), "--output": FIGURES,
                          "--csv": (["p.csv"], ["outdir", "missing/p.csv", "f.png"])}))
    if draw(st.booleans()):
        argv += ["--engine", "fem2d", "--max-unknowns", "20000"] + draw(options(
            {**FEM2D, "--vtu": (["f.vtu"], ["f.txt", "outdir"]), "--npz": (["f.npz"], ["missing/f.npz"])}, ("--unverified",)))
    return argv + ["--quiet"]


@st.composite
def mesh_argv(draw) -> list[str]:
    argv = ["mesh"] + draw(geometry()) + ["--m", draw(token((["20", "0", "5"], ["-1", "x", "100000000", "600"])))]
    argv += ["--max-unknowns", "20000"] + draw(options(
        {"--p": (["1", "2"], ["0"]), "--pol": POLS, "--region": REGIONS,
         "--wavelength": (["1700", "2500"], ["1e300", "1e-300", "nan", "0", "1e7", "432"]), "--format": FORMATS,
         "--output": FILES, **FEM2D}))
    return argv


@st.composite
def materials_argv(draw) -> list[str]:
    argv = ["materials"] + ([draw(token(INDICES))] if draw(st.booleans()) else [])
    return argv + draw(options({"--wavelength": (["400:500:10", "400:410:5", "440:440", "200:210:10"],
                                                 ["1:2:0", "400:500:-1", "1e-300:1e300:1e-300", "nan:1", "x", "1:1e9:1"]),
                                "--format": FORMATS}, ("--strict",)))


@st.composite
def assign_argv(draw) -> list[str]:
    peaks = draw(token((["436.2128,436.405", "436.2128;436.405"], ["436.2", "0,-1", "nan,436", "x", "1e300,1e301"])))
    source = ["--peaks", peaks] if draw(st.integers(0, 3)) else ["--spectrum", draw(st.sampled_from(["missing.csv", "outdir"]))]
    fibre = [] if draw(st.booleans()) else draw(geometry(layers=False))  # the paper's capillary fits these peaks
    argv = ["assign"] + source + fibre + ["--pol", "Ez", "--candidates", "1", "--search", "0.2"]
    return argv + draw(options({"--fit": (["inner-diameter", "core"], ["outer", ""]),
                                "--p": (["1"], ["1:2", "any", "0"]), "--sigma": Q_VALUES,
                                "--search": (["0.2"], ["nan", "1e300", "0"]), "--candidates": (["1"], INTS[1]),
                                "--prominence": (["0.1"], ["1", "0", "nan"]),
                                "--format": FORMATS, "--output": FILES, "--plot": FIGURES}, ("--quiet",)))


@st.composite
def design_argv(draw) -> list[str]:
    argv = ["design", "--wavelength", draw(token((["440", "1550"], ["0", "nan", "1e300", "1e-300", "x"]))), "--grid", "1x1"]
    return argv + draw(options({"--min-fsr": (["1"], ["0", "nan", "1e300"]), "--min-q": Q_VALUES,
                                "--min-confinement": (["0.5"], ["2", "0"]),
                                "--inner-diameter": (["30:40"], ["40:30", "nan:1", "1e30:2e30", "30"]),
                                "--wall-thickness": (["2:4"], ["4:2", "0:1", "x"]),
                                "--grid": (["1x1"], ["0x1", "x", "100000x100000"]),
                                "--top": INTS, "--pol": POLS, "--core": INDICES, "--format": FORMATS, "--output": FILES},
                               ("--quiet",)))


@st.composite
def sweep_argv(draw) -> list[str]:
    argv = ["sweep", "--jobs", "1", "--pol", "Ez", "--p", "1", "--no-fsr", "--quiet"]
    argv += ["--inner-diameter", draw(token((["6", "6:6.1:0.1"], ["1:2:0", "2:1:1", "nan", "6:7:1e-300", "x"]))),
             "--outer-diameter", "8", "--wavelength", draw(token(WINDOWS))]
    return argv + draw(options({"--core": INDICES, "--track": (["Ez:20:1"], ["Ez:-1:1", "XY:1:1", "x"]),
                                "--format": (["csv", "jsonl", "json"], ["xml"]),
                                "--output": (["table.jsonl"], ["outdir", "missing/t.csv"]), "--q-min": Q_VALUES}))


COMMANDS = st.one_of(modes_argv(), field_argv(), mesh_argv(), materials_argv(), assign_argv(), design_argv(), sweep_argv())


# -- the check ------------------------------------------------------------------------------------
class ExampleTimeout(BaseException):
    """An example ran longer than EXAMPLE_SECONDS (BaseException: no ``except Exception`` takes it)."""


def _alarm(signum, frame):
    raise ExampleTimeout


def _refuse_constant(name):
    raise ValueError(f"non-strict JSON constant {name}")


def _json_output(argv, out) -> str | None:
    """The JSON text a successful command produced (stdout or its --output file), else None."""
    fmt = argv[argv.index("--format") + 1] if "--format" in argv else None
    if fmt not in ("json", "jsonl"):
        return None
    if "--output" in argv:
        with open(argv[argv.index("--output") + 1], encoding="utf-8") as handle:
            return handle.read()
    return out


def _check_strict_json(argv, text) -> None:
    if argv[0] == "sweep":  # JSON lines
        for line in text.splitlines():
            json.loads(line, parse_constant=_refuse_constant)
    elif text.strip():
        json.loads(text, parse_constant=_refuse_constant)


def check_command(argv, capsys) -> None:
    note(" ".join(repr(a) if (not a or " " in a) else a for a in ["wgmfem", *argv]))
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        os.mkdir("outdir")
        os.environ["WGMFEM_MESH_CACHE"] = os.path.join(folder, "cache")
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, EXAMPLE_SECONDS)
        try:
            code = main(list(argv))
        except ExampleTimeout:
            pytest.fail(f"more than {EXAMPLE_SECONDS} s: a hang, or work the limits should refuse")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        out, err = capsys.readouterr()
        assert code in (0, 2, 3), err
        assert "Traceback" not in err
        assert all(line.startswith("wgmfem") for line in err.splitlines() if line.strip()), err
        if code == 0:
            text = _json_output(argv, out)
            if text is not None:
                _check_strict_json(argv, text)
        else:
            assert err.splitlines()[-1].startswith("wgmfem: error: "), err


@pytest.fixture(scope="module", autouse=True)
def _mesh_cache():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WGMFEM_MESH_CACHE", tempfile.mkdtemp(prefix="wgmfem-fuzz-"))
        yield


@settings(max_examples=SMALL_EXAMPLES, derandomize=True, **_COMMON)
@given(argv=COMMANDS)
def test_fuzz_cli(argv, capsys):
    check_command(argv, capsys)


@pytest.mark.slow
@settings(max_examples=LARGE_EXAMPLES, **_COMMON)
@given(argv=COMMANDS)
def test_fuzz_cli_large(argv, capsys):
    check_command(argv, capsys)
