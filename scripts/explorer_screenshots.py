"""Take the explorer's screenshots in docs/images with a real Chromium:
python scripts/explorer_screenshots.py [--out DIR] [--chromium PATH]

explorer.png: the lecture's neuron at 1800 px, in the backward pass (the README's picture).
explorer_1024.png: the README's expression g in a 1024 px window, halfway through the backward pass.
explorer_notebook.png: a Neuron's graph in an 800 x 500 frame, as a notebook cell shows it.
"""
import argparse
import contextlib
import io
import pathlib
import re
import shutil
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's micrograd, installed or not

from micrograd.explore import explore  # noqa: E402
from micrograd.nn import Neuron  # noqa: E402
from render_readme_graph import lecture_values  # noqa: E402  (beside this script)

BROWSER_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
                '--disable-component-update', '--disable-sync', '--no-first-run']


def lecture_neuron():
    """the lecture's neuron, its labels as the lecture types them; w1, w2, b the parameters"""
    v = lecture_values()
    return explore(v['o'], params=[v['w1'], v['w2'], v['b']])


def readme_g():
    """the README's first example, run as written: nothing labelled, so every value is named #i"""
    block = re.search(r'```python\n(.*?)```', (ROOT / 'README.md').read_text(encoding='utf-8'), re.S).group(1)
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(block, namespace)
    return explore(namespace['g'])


def unlabelled_neuron():
    """a Neuron on two numbers, nothing labelled: the README's neural-network example, one unit"""
    n = Neuron(2, act='tanh', rng=1337)
    return explore(n([1.0, -2.0]), params=n.parameters())


def shoot(page, explorer, path, steps, tmp):
    file = pathlib.Path(explorer.save(tmp / (path.stem + '.html')))
    page.goto(file.as_uri())
    for _ in range(steps):
        page.click('#step')
    page.screenshot(path=path)


def shoot_in_frame(browser, explorer, path, steps, width=800, height=500):
    """explorer as Jupyter shows it: its _repr_html_ frame in a page the size of a notebook cell"""
    page = browser.new_page(viewport={'width': width, 'height': height})
    page.set_content(f'<body style="margin: 0">{explorer._repr_html_()}</body>')
    frame = page.frame_locator('iframe')
    for _ in range(steps):
        frame.locator('#step').click()
    page.screenshot(path=path)
    page.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', type=pathlib.Path, default=ROOT / 'docs' / 'images')
    parser.add_argument('--chromium', default=shutil.which('chromium') or '/usr/bin/chromium')
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as tmp:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=BROWSER_ARGS)
        lecture = lecture_neuron()
        page = browser.new_page(viewport={'width': 1800, 'height': 420})
        # forward (10 values), then back to the last op: x1*w1 passes its grad to x1 and w1
        shoot(page, lecture, args.out / 'explorer.png', 10 + 6, pathlib.Path(tmp))
        page.close()
        g = readme_g()
        page = browser.new_page(viewport={'width': 1024, 'height': 700})
        forward = g.page.count('"phase":"forward"')
        shoot(page, g, args.out / 'explorer_1024.png', forward + 12, pathlib.Path(tmp))
        page.close()
        shoot_in_frame(browser, unlabelled_neuron(), args.out / 'explorer_notebook.png', 10 + 3)
        browser.close()
    for name in ('explorer.png', 'explorer_1024.png', 'explorer_notebook.png'):
        print(f"wrote {args.out / name}")


if __name__ == '__main__':
    main()
