"""the lecture as exercises: starter files to fill in, and a checker that names the classic mistakes

python -m micrograd.exercises start DIR writes exercises.ipynb and exercises.py;
python -m micrograd.exercises check FILE runs the checks on the learner's file;
in a notebook, check(Value=Value, MLP=MLP, ...) runs them on the classes defined there.
"""
from micrograd.exercises.runner import check, run_checks, report

__all__ = ['check', 'run_checks', 'report']
