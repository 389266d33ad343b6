"""random_subset: the draw numpy's Generator.choice makes, in the items'
order, reproducible by seed, range checked."""
import numpy as np
import pytest

from mmcrack.utils.sampling import random_subset


@pytest.mark.parametrize('seed', [0, 1, 7])
@pytest.mark.parametrize('num', [0, 1, 30, 99, 100])
def test_equals_generator_choice_in_order(seed, num):
    items = [f'img{i:03d}' for i in range(100)]
    want = sorted(np.random.default_rng(seed).choice(
        items, size=num, replace=False).tolist())
    got = random_subset(items, num, seed)
    assert got == want
    assert got == random_subset(items, num, seed)
    assert len(set(got)) == num


def test_out_of_range_is_refused():
    with pytest.raises(ValueError, match='cannot draw 4 of 3'):
        random_subset([1, 2, 3], 4, 0)
    with pytest.raises(ValueError, match='cannot draw -1'):
        random_subset([1, 2, 3], -1, 0)
