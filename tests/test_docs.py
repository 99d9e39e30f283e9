"""README.md and docs/*.md stay true: every Python example runs and prints what its comments say,
every relative link leads to a file, and CI runs the README's test command as written.

Each ```python block runs on its own, in a fresh namespace and an empty working directory, so a
reader can copy any one of them. A line `print(...)  # prints X` promises that X is a whole line
of the block's output; the promised lines must appear in the order of the comments.
Other fences (```bash, ```text, ```pycon) are not run.
"""
import contextlib
import io
import pathlib
import re
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


def _text(page):
    return page.read_text(encoding="utf-8")


def _blocks(language):
    """(page name, index, code) for every ```language block of every page"""
    found = []
    for page in PAGES:
        name = page.relative_to(ROOT).as_posix()
        for i, code in enumerate(re.findall(rf"^```{language}\n(.*?)^```", _text(page), re.S | re.M)):
            found.append((name, i, code))
    return found


PYTHON_BLOCKS = _blocks("python")
README_BASH = [code for name, _, code in _blocks("bash") if name == "README.md"]


def _needs_dot(block):
    """an example that renders a graph (.render) or lays one out for the explorer runs Graphviz's dot"""
    return "render(" in block or "explore(" in block


def _is_subsequence(expected, printed):
    lines = iter(printed)
    return all(any(line == want for line in lines) for want in expected)


def test_readme_opens_with_the_demo_and_test_commands():
    demo, tests = README_BASH[0].strip(), README_BASH[1].strip()
    assert demo.endswith("python -m micrograd.demo")
    assert tests == "pip install torch==2.13.0 && pip install -e '.[test]' && python -m pytest"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests in ci  # CI runs the README's test command exactly as written


def test_readme_stays_a_front_door():
    # about 150 lines: what it is, the commands, the example, what differs; topics live in docs/
    assert len(_text(ROOT / "README.md").splitlines()) <= 160


def test_readme_lists_each_difference_as_a_link_to_its_page():
    section = _text(ROOT / "README.md").split("## What is different from the original")[1].split("\n## ")[0]
    items = [line for line in section.splitlines() if line.startswith("- ")]
    assert len(items) >= 8
    assert all(re.match(r"- \[[^]]+\]\(docs/[a-z]+\.md(#[a-z0-9-]+)?\)", item) for item in items), items


def test_every_page_is_checked():
    names = {name for name, _, _ in PYTHON_BLOCKS}
    assert "README.md" in names and "docs/api.md" in names  # the regex still finds the blocks


@pytest.mark.parametrize("page, index, block", PYTHON_BLOCKS,
                         ids=[f"{name}:{i}" for name, i, _ in PYTHON_BLOCKS])
def test_example_prints_what_it_says(page, index, block, tmp_path, monkeypatch):
    if _needs_dot(block) and shutil.which("dot") is None:
        pytest.skip("the dot program is missing (Graphviz: apt-get install graphviz, brew install graphviz, "
                    "or graphviz.org on Windows): this example lays out or renders a graph")
    monkeypatch.chdir(tmp_path)  # examples that save files write them here
    monkeypatch.syspath_prepend(str(ROOT))
    expected = [line.strip() for line in re.findall(r"# prints (.*)", block)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, f"{page} (block {index})", "exec"), {"__name__": "docs"})
    printed = [line.strip() for line in out.getvalue().splitlines()]
    assert _is_subsequence(expected, printed), (
        f"{page} block {index} promises these lines, in this order:\n  " + "\n  ".join(expected)
        + "\nbut printed:\n  " + "\n  ".join(printed))


def test_examples_that_run_dot_are_recognised():
    # the skip above is the only one in this file: it must catch every example that runs dot
    assert _needs_dot("dot.render('gout')") and _needs_dot("page = explore(o)")
    assert not _needs_dot("dot = draw_dot(y)\nprint(dot.source[:7])")  # DOT text alone needs no program


def test_prints_check_is_a_subsequence_in_order():
    assert _is_subsequence(["1", "3"], ["1", "2", "3"])
    assert not _is_subsequence(["3", "1"], ["1", "2", "3"])
    assert not _is_subsequence(["1", "1"], ["1", "2"])  # each promise needs a line of its own
    assert not _is_subsequence(["1"], ["10"])  # a whole line, not a prefix


def _anchors(page):
    """the anchors GitHub makes of a page's headings: lowercase, punctuation dropped, spaces as -"""
    text = re.sub(r"^```.*?^```", "", _text(page), flags=re.S | re.M)  # a '# comment' in code is no heading
    headings = re.findall(r"^#+ (.*)$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_relative_links_lead_to_files_and_headings(page):
    targets = re.findall(r"\]\(([^)\s]+)\)", _text(page))
    local = [t for t in targets if not re.match(r"[a-z]+:", t)]
    missing = []
    for target in local:
        path, _, anchor = target.partition("#")
        file = page.parent / path if path else page
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in _anchors(file)):
            missing.append(target)
    assert not missing, f"{page.name} links to files or headings that do not exist: {missing}"


def test_anchors_are_githubs():
    assert _anchors(ROOT / "docs" / "api.md") >= {"value", "numbers-in-python-floats-out", "microgradnn",
                                                  "amax-select-and-the-graph-walk", "backward"}
