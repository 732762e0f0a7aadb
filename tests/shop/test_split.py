"""The largest-remainder split: shares add up exactly and follow the weights."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cuntao.shop.split import fee_of, split_largest_remainder

weights_st = st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=40).filter(
    lambda ws: sum(ws) > 0)


@given(total=st.integers(min_value=0, max_value=10**12), weights=weights_st)
def test_shares_add_up_to_the_total_and_each_is_within_one_fen_of_its_exact_share(total, weights):
    shares = split_largest_remainder(total, weights)
    assert sum(shares) == total
    weight_sum = sum(weights)
    floors = [total * w // weight_sum for w in weights]
    for share, floor, weight in zip(shares, floors, weights, strict=True):
        assert share in (floor, floor + 1)
        if weight == 0:
            assert share == 0
    # The extra fen went to the largest remainders: none left out has a larger one.
    remainders = [total * w % weight_sum for w in weights]
    bumped = [r for r, s, f in zip(remainders, shares, floors, strict=True) if s > f]
    kept = [r for r, s, f in zip(remainders, shares, floors, strict=True) if s == f]
    if bumped and kept:
        assert min(bumped) >= max(kept)


@given(total=st.integers(min_value=0, max_value=10**9), weights=weights_st)
def test_a_larger_weight_never_gets_a_smaller_share(total, weights):
    shares = split_largest_remainder(total, weights)
    for i in range(len(weights)):
        for j in range(len(weights)):
            if weights[i] > weights[j]:
                assert shares[i] >= shares[j]


@given(total=st.integers(min_value=0, max_value=10**9), weights=weights_st)
def test_the_split_is_deterministic(total, weights):
    assert split_largest_remainder(total, weights) == split_largest_remainder(total, list(weights))


def test_left_over_fen_go_to_the_largest_remainders():
    # 100 fen over 1:1:1 -> 33.33 each; the first (earliest tie) gets the extra fen.
    assert split_largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    # 10 fen over 3 kg : 7 kg exactly.
    assert split_largest_remainder(10, [3, 7]) == [3, 7]
    # 101 fen over 1:2:2 -> 20.2, 40.4, 40.4: the two 0.4 remainders win over 0.2.
    assert split_largest_remainder(101, [1, 2, 2]) == [20, 41, 40]


@pytest.mark.parametrize("total, weights", [(-1, [1]), (10, [0, 0]), (10, [-1, 2]), (10, [1.5, 2])])
def test_bad_input_is_refused(total, weights):
    with pytest.raises(ValueError):
        split_largest_remainder(total, weights)


def test_fee_is_rounded_down_in_whole_fen():
    assert fee_of(12345, 800) == 987  # 987.6 -> 987
    assert fee_of(0, 800) == 0
    with pytest.raises(ValueError):
        fee_of(100, 10_001)
