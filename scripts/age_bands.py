#!/usr/bin/env python3
"""Age band shares for a city file from a census's broad age groups.

A census communiqué (e.g. a Chinese city's sixth-census bulletin) usually gives only the shares
aged 0-14, 15-64 and 65+ (or 0-14, 15-59 and 60+). `city.age_band_shares` wants 18 five-year
bands (0-4 ... 80-84, 85+). This script takes a reference shape (by default the baseline's 2015
shape moved five years back, i.e. the Hegang 2010 census shape the baseline was built from) and
scales each broad group's bands so that the groups hold the stated shares, keeping the shape
within each group. Print it and paste the line into the city file with the census as source.

  scripts/age_bands.py --young 10.82 --old 10.18 --old-from 65
  scripts/age_bands.py --young 13.06 --old 11.40 --old-from 60
"""
import argparse

# config/baseline.toml, city.age_band_shares (the city in 2015).
BASELINE_2015 = [0.030, 0.034, 0.036, 0.040, 0.055, 0.070, 0.069, 0.080, 0.108,
                 0.120, 0.118, 0.077, 0.058, 0.037, 0.025, 0.020, 0.013, 0.010]


def shape_2010():
    """The baseline's cohorts five years younger: band k in 2010 is band k + 1 in 2015; the
    last two bands (80-84, 85+) keep the 2015 shares of their ages, the youngest band (0-4,
    born 2006-2010) the 2015 share of 5-9."""
    b = BASELINE_2015
    return b[1:17] + [b[16], b[17]]


def fit(shape, young, old, old_from):
    """Scale bands 0..2 to `young`, bands from `old_from` to `old`, the rest to the remainder."""
    first_old = old_from // 5
    groups = [range(0, 3), range(3, first_old), range(first_old, len(shape))]
    targets = [young, 1.0 - young - old, old]
    out = list(shape)
    for g, t in zip(groups, targets):
        total = sum(shape[i] for i in g)
        for i in g:
            out[i] = shape[i] / total * t
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--young", type=float, required=True, help="percent aged 0-14")
    p.add_argument("--old", type=float, required=True, help="percent aged OLD_FROM and over")
    p.add_argument("--old-from", type=int, choices=[60, 65], default=65)
    a = p.parse_args()
    bands = fit(shape_2010(), a.young / 100, a.old / 100, a.old_from)
    # Round to 4 decimals and put the rounding error into the largest band, so they sum to 1.
    rounded = [round(x, 4) for x in bands]
    big = max(range(len(rounded)), key=lambda i: rounded[i])
    rounded[big] = round(rounded[big] + 1.0 - sum(rounded), 4)
    print("age_band_shares = [" + ", ".join(f"{x:.4f}" for x in rounded) + "]")


if __name__ == "__main__":
    main()
