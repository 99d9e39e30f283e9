"""micrograd: a tiny scalar autograd engine and a neural-network library on top of it."""
from micrograd.engine import Value

__version__ = "1.0.0"
__all__ = ["Value", "__version__"]
