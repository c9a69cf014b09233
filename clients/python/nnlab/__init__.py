"""nnlab — the Python client of the nnlab deep-learning teaching service.

    >>> import nnlab
    >>> c = nnlab.Client()          # $NNLAB_URL or http://127.0.0.1:8080
    >>> r = c.conv("logo.png", kernel="sobel_x", activation="relu")
    >>> r["output"].shape
    (254, 254, 1)

Arrays go to the daemon and come back as NumPy ``.npy`` (exact float32 bits); errors raise
:class:`nnlab.Error`. Standard library and NumPy only.
"""
from .client import Client
from .errors import Error

__all__ = ["Client", "Error", "__version__"]
__version__ = "1.0.0"
