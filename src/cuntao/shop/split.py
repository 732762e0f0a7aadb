"""Sharing whole fen in proportion to weights, so the shares add up exactly.

A lot's revenue is shared among its farmers by the graded kilograms each contributed.
Rounding every share down loses fen; rounding each to nearest can add up to one fen too
many or too few. The largest-remainder method (Hamilton's) gives every farmer the floor
of their exact share and then hands the fen left over, one each, to the largest
fractional remainders. Everything is integer arithmetic: weights may be grams or
kilograms, never floats.
"""

from collections.abc import Sequence


def split_largest_remainder(total_fen: int, weights: Sequence[int]) -> list[int]:
    """Split total_fen into shares proportional to weights; the shares sum to total_fen.

    Ties between equal remainders go to the earlier weight, so the split is
    deterministic. A zero weight gets nothing. Refuses a negative total or weight,
    and a positive total with no positive weight to carry it.
    """
    if type(total_fen) is not int or total_fen < 0:
        raise ValueError("total_fen must be a non-negative int")
    if any(type(w) is not int or w < 0 for w in weights):
        raise ValueError("weights must be non-negative ints")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total_fen:
            raise ValueError("a positive total needs a positive weight")
        return [0 for _w in weights]
    floors, remainders = [], []
    for i, weight in enumerate(weights):
        share, remainder = divmod(total_fen * weight, weight_sum)
        floors.append(share)
        remainders.append((-remainder, i))
    left_over = total_fen - sum(floors)
    for _neg_remainder, i in sorted(remainders)[:left_over]:
        floors[i] += 1
    return floors


def fee_of(revenue_fen: int, rate_bp: int) -> int:
    """The cooperative's fee in whole fen, rounded down: the farmers never lose a fraction to it."""
    if rate_bp < 0 or rate_bp > 10_000:
        raise ValueError("a fee rate is 0 to 10000 basis points")
    return revenue_fen * rate_bp // 10_000
