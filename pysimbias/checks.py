"""Checks of single parameter values, shared by the config, the priors and the targets.

Each check returns the normalised value or raises
:class:`~pysimbias.errors.InvalidParameterError` naming the parameter.
"""

import math
import numbers

from .errors import InvalidParameterError

__all__ = ["check_real", "check_int", "check_choice", "check_fraction", "parse_count", "parse_widths",
           "eval_power"]


def check_real(value, param, minimum=0.0, strict=False):
    """A finite real number ``>= minimum`` (``> minimum`` when ``strict``), as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise InvalidParameterError(param, f"must be a finite number, got {value!r}")
    if value < minimum or (strict and value == minimum):
        relation = ">" if strict else ">="
        raise InvalidParameterError(param, f"must be {relation} {minimum:g}, got {value!r}")
    return float(value)


def check_int(value, param, low, high):
    """An integer in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise InvalidParameterError(param, f"must be an integer from {low} to {high}, got {value!r}")
    return int(value)


def check_choice(value, param, choices):
    """One of ``choices``."""
    if value not in choices:
        raise InvalidParameterError(param, f"unknown value {value!r}; choose from {', '.join(choices)}")
    return value


def check_fraction(value, param):
    """A real number in (0, 1]."""
    value = check_real(value, param, 0.0, strict=True)
    if value > 1.0:
        raise InvalidParameterError(param, f"must be in (0, 1], got {value!r}")
    return value


def parse_widths(text):
    """Parse ``"40,40"`` into ``(40, 40)``; an empty string means no hidden layer."""
    if isinstance(text, (tuple, list)):
        items = list(text)
    else:
        text = str(text).strip()
        items = [] if text == "" else text.split(",")
    widths = []
    for item in items:
        try:
            value = int(str(item).strip())
        except ValueError:
            value = 0
        if value < 1 or str(item).strip() == "":
            raise InvalidParameterError(
                "widths", f"{text!r} is not a comma-separated list of positive integers (e.g. 40,40)"
            )
        widths.append(value)
    return tuple(widths)


def parse_count(value, param):
    """Parse a positive integer count, accepting forms like ``1e6`` and ``10**6``."""
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            number = float(int(text)) if text.isdigit() else float(eval_power(text))
        except ValueError:
            raise InvalidParameterError(param, f"{value!r} is not a number (e.g. 1000000 or 1e6)") from None
    else:
        number = value
    if not isinstance(number, numbers.Real) or not math.isfinite(number) or number != int(number) or number < 1:
        raise InvalidParameterError(param, f"must be a positive whole number, got {value!r}")
    return int(number)


def eval_power(text):
    """Read ``"1e6"``, ``"2.5e7"`` or ``"10**6"`` as a float."""
    if "**" in text:
        base, exponent = text.split("**", 1)
        return float(base) ** float(exponent)
    return float(text)
