"""micrograd: a tiny scalar autograd engine and a neural-network library on top of it."""
from micrograd.engine import Value
from micrograd.serialize import load, save
from micrograd.testing import gradcheck  # torch, used by testing.assert_matches_torch, loads on first use

__version__ = "1.0.0"
__all__ = ["Value", "gradcheck", "save", "load", "__version__"]
