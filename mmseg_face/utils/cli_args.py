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


def finite_float(low, high=math.inf, low_inclusive=True,
                 high_inclusive=True):
    """An argparse ``type`` for finite floats in ``[low, high]``; either end
    is open when its ``*_inclusive`` is False."""
    interval = (f'{"[" if low_inclusive else "("}{low}, ' +
                (f'{high}{"]" if high_inclusive else ")"}'
                 if math.isfinite(high) else 'inf)'))

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        above_low = value >= low if low_inclusive else value > low
        below_high = value <= high if high_inclusive else value < high
        if not (math.isfinite(value) and above_low and below_high):
            raise argparse.ArgumentTypeError(
                f'must be a number in {interval}, got {text!r}')
        return value

    return parse
