"""argparse types that reject bad values while the arguments are parsed.

A value outside its range ends the tool with argparse's one-line
``error: argument --batch-size: must be an integer >= 1, got 0`` before
anything is loaded.
"""
import argparse
import math


def int_at_least(minimum):
    """An argparse ``type`` for integers ``>= minimum``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'must be an integer >= {minimum}, got {text!r}') from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f'must be an integer >= {minimum}, got {value}')
        return value

    return parse


def finite_float(low, high=math.inf, low_inclusive=True):
    """An argparse ``type`` for finite floats in ``[low, high]`` (or
    ``(low, high]`` when ``low_inclusive`` is False)."""
    bracket = '[' if low_inclusive else '('
    interval = f'{bracket}{low}, {high}]' if math.isfinite(high) else \
        f'{bracket}{low}, inf)'

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        above_low = value >= low if low_inclusive else value > low
        if not (math.isfinite(value) and above_low and value <= high):
            raise argparse.ArgumentTypeError(
                f'must be a number in {interval}, got {text!r}')
        return value

    return parse
