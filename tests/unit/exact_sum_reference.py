"""Writes the reference cases for the ExactSum tests: inputs and their correctly rounded sums.

Usage: exact_sum_reference.py OUT_FILE
Run with Debian's /usr/bin/python3 (python3-numpy), independently of the C++ under test.

Format (hex floats from float.hex, which std::strtod reads):
    case NAME COUNT EXPECTED
    followed by COUNT lines, one input value each.
Finite cases: EXPECTED is the exact sum (integer arithmetic in units of 2^-1075) rounded once
by Python's correctly rounded int/int division, "inf"/"-inf" when that overflows; it is
checked against math.fsum wherever fsum can compute it (fsum fails when partial sums
overflow). Cases with infinities or NaN: EXPECTED is numpy.sum of the inputs.
"""
import math
import random
import sys

import numpy as np

SCALE = 2**1075  # one unit = half the smallest subnormal, so every double is an integer
TINY = 5e-324
BIG = sys.float_info.max


def rounded_exact_sum(values):
    total = 0
    for v in values:
        num, den = v.as_integer_ratio()
        total += num * (SCALE // den)
    try:
        return total / SCALE  # int / int true division is correctly rounded
    except OverflowError:
        return math.inf if total > 0 else -math.inf


def finite_case(name, values):
    expected = rounded_exact_sum(values)
    try:
        fsum = math.fsum(values)
    except OverflowError:
        fsum = None
    if fsum is not None and math.isfinite(expected) and fsum != expected:
        sys.exit(f"{name}: exact sum {expected!r} differs from math.fsum {fsum!r}")
    return name, values, expected


def special_case(name, values):
    with np.errstate(over="ignore", invalid="ignore"):
        return name, values, float(np.sum(np.array(values, dtype=np.float64)))


def random_double(rng, min_exp=-1074, max_exp=1023):
    value = math.ldexp(rng.random() + 1.0, rng.randint(min_exp, max_exp))
    return value if rng.random() < 0.5 else -value


def fixed_cases():
    half_ulp_of_one = 2.0**-53
    yield finite_case("cancellation", [1e308, 1.0, -1e308])
    yield finite_case("partial_overflow", [1e308] * 10 + [-1e308] * 9)
    yield finite_case("partial_overflow_negative", [-BIG, -BIG, BIG, -1.0])
    yield finite_case("overflow", [BIG, BIG])
    yield finite_case("overflow_negative", [-BIG, -1e308, -1e308])
    yield finite_case("overflow_by_rounding", [BIG, math.ldexp(1.0, 970)])
    yield finite_case("no_overflow_below_half_ulp", [BIG, math.ldexp(1.0, 969)])
    yield finite_case("subnormals", [TINY] * 7)
    yield finite_case("subnormal_difference", [sys.float_info.min, -TINY])
    yield finite_case("subnormals_to_normal", [sys.float_info.min / 2] * 3)
    yield finite_case("huge_tiny", [1e308, TINY, -1e308])
    yield finite_case("huge_tiny_negative", [-1e308, -TINY, 1e308, -TINY])
    yield finite_case("tie_to_even_down", [1.0, half_ulp_of_one])
    yield finite_case("tie_broken_by_sticky", [1.0, half_ulp_of_one, TINY])
    yield finite_case("tie_to_even_up", [1.0 + 2.0**-52, half_ulp_of_one])
    yield finite_case("tie_negative", [-1.0 - 2.0**-52, -half_ulp_of_one])
    yield finite_case("tie_broken_by_close_sticky", [1.0, half_ulp_of_one, 2.0**-60])
    yield finite_case("below_tie", [1.0, half_ulp_of_one, -TINY])
    yield finite_case("exact_zero", [1.5, -1.5, 1e-300, -1e-300])
    yield finite_case("single_value", [-3.75])
    yield finite_case("signed_zeros", [0.0, -0.0, 0.0])
    yield finite_case("extremes", [BIG, TINY, -BIG, -sys.float_info.min])


def random_cases(rng):
    for i in range(200):
        n = rng.randint(1, 1000)
        yield finite_case(f"random_exponents_{i}", [random_double(rng) for _ in range(n)])
    for i in range(50):
        half = [random_double(rng, -200, 200) for _ in range(rng.randint(1, 500))]
        values = half + [-v for v in half] + [random_double(rng, -1074, -900)]
        rng.shuffle(values)
        yield finite_case(f"cancelling_pairs_{i}", values)
    for i in range(100):
        # Exactly halfway between two doubles, then nudged by a bit at a random distance
        # below the rounding bit (or not at all): exercises ties and the sticky bits.
        x = random_double(rng, -1000, 1000)
        nudge = rng.choice([0.0, math.ldexp(math.ulp(x), -rng.randint(2, 80)), TINY])
        values = [x, math.ulp(x) / 2, nudge if rng.random() < 0.5 else -nudge]
        rng.shuffle(values)
        yield finite_case(f"near_tie_{i}", values)
    yield finite_case("million_moderate", [rng.gauss(0.0, 1e3) for _ in range(1_000_000)])
    # Below 2^1004 so a million values cannot overflow; down to the subnormals.
    yield finite_case("million_full_range", [random_double(rng, max_exp=1003) for _ in range(1_000_000)])


def special_cases():
    inf, nan = math.inf, math.nan
    yield special_case("inf_plus_finite", [1.0, inf, -1e308])
    yield special_case("minus_inf", [1e308, -inf, 1.0])
    yield special_case("inf_minus_inf", [inf, 2.0, -inf])
    yield special_case("nan", [1.0, nan, 2.0])
    yield special_case("nan_and_inf", [inf, nan])
    yield special_case("two_minus_infs", [-inf, -inf, 5.0])


def main() -> None:
    rng = random.Random(20240611)
    with open(sys.argv[1], "w") as out:
        for cases in (fixed_cases(), random_cases(rng), special_cases()):
            for name, values, expected in cases:
                out.write(f"case {name} {len(values)} {expected.hex()}\n")
                out.writelines(v.hex() + "\n" for v in values)


if __name__ == "__main__":
    main()
