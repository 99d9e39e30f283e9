"""Render the graph images the README shows into docs/images: python scripts/render_readme_graph.py"""
import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # draw with this checkout's micrograd, installed or not

from micrograd.engine import Value  # noqa: E402
from micrograd.nn import Neuron  # noqa: E402
from micrograd.viz import draw_dot  # noqa: E402


def readme_neuron():
    """the README's example, word for word"""
    n = Neuron(2, rng=1337)
    y = n([Value(1.0), Value(-2.0)])
    y.backward()
    return draw_dot(y)


def lecture_values():
    """the lecture's tanh neuron, its bias chosen so that o = tanh(n) = 1/sqrt(2): its values by label"""
    x1 = Value(2.0, label='x1')
    x2 = Value(0.0, label='x2')
    w1 = Value(-3.0, label='w1')
    w2 = Value(1.0, label='w2')
    b = Value(6.8813735870195432, label='b')
    x1w1 = x1 * w1
    x1w1.label = 'x1*w1'
    x2w2 = x2 * w2
    x2w2.label = 'x2*w2'
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = 'x1*w1 + x2*w2'
    n = x1w1x2w2 + b
    n.label = 'n'
    o = n.tanh()
    o.label = 'o'
    return {v.label: v for v in (x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n, o)}


def lecture_neuron():
    o = lecture_values()['o']
    o.backward()
    return draw_dot(o)


IMAGES = {'neuron.svg': readme_neuron, 'lecture_neuron.svg': lecture_neuron}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--out', type=pathlib.Path, default=ROOT / 'docs' / 'images',
                        help="directory to write into (default: docs/images)")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    for name, build in IMAGES.items():
        (out / name).write_bytes(build().pipe(format='svg'))
        print(f"wrote {out / name}")


if __name__ == '__main__':
    main()
