"""Measures of Boolean functions, computed from packed keys.

Importing the package registers the core measures (``ones``, ``entropy``,
``lz76``, ``klz``, ``lz78``), then the continuity-aware ones (``boundary``,
``csr``, ``gc``, ``walsh_degree``), which apply only where the context has a
neighbour graph or bit-vector inputs; ``test_error``, which applies only
where it has a target and a training set; and ``sop``, which a run computes
only on request (:func:`run_measures`); further measures plug in with
:func:`register_measure`.
"""

from . import basic  # noqa: F401  (registers the core measures)
from . import continuity, walsh  # noqa: F401,E402  (register the continuity-aware measures)
from . import learning  # noqa: F401,E402  (registers test_error)
from . import sop  # noqa: F401,E402  (registers sop, computed on request only)
from .registry import (
    Measure,
    MeasureContext,
    available_measures,
    compute_measures,
    get_measure,
    register_measure,
    run_measures,
)

__all__ = [
    "MeasureContext",
    "Measure",
    "register_measure",
    "get_measure",
    "available_measures",
    "compute_measures",
    "run_measures",
]
