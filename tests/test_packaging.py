"""The package builds into a wheel with every module and its data files, no runtime dependency, and the extras we document."""
import pathlib
import subprocess
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_wheel_has_every_module_and_no_runtime_dependency(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("micrograd-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    package = ROOT / "micrograd"
    shipped = {p.relative_to(ROOT).as_posix() for p in package.rglob("*.py")}  # subpackages too
    # package data: the GPT demo's names with their license, the explorer's page template
    shipped |= {p.relative_to(ROOT).as_posix() for p in [*package.glob("data/*"), *package.glob("*.html")]}
    assert {n for n in names if n.startswith("micrograd/")} == shipped
    assert {"micrograd/data/names.txt", "micrograd/data/names.LICENSE"} <= shipped

    metadata = next(n for n in names if n.endswith("METADATA"))
    requires = [line for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
                if line.startswith("Requires-Dist:")]
    assert requires and all("extra ==" in line for line in requires)  # nothing without an extra
    extras = {line.split("extra ==")[1].strip(" '\"") for line in requires}
    assert {"viz", "demo", "fast", "torch", "test", "all"} <= extras
