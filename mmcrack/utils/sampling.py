"""A reproducible random subset, the one draw every sampled run uses."""
from typing import List, Sequence, TypeVar

import numpy as np

T = TypeVar('T')


def random_subset(items: Sequence[T], num: int, seed: int) -> List[T]:
    """``num`` items drawn without replacement, in their original order.

    Args:
        items: the population (sort it first: the draw depends on its
            order and on ``seed`` only).
        num: how many, ``0 <= num <= len(items)``.
        seed: seed of ``numpy.random.default_rng``.

    Raises:
        ValueError: ``num`` out of range.
    """
    if not 0 <= num <= len(items):
        raise ValueError(f'cannot draw {num} of {len(items)} items')
    chosen = np.random.default_rng(seed).choice(len(items), size=num,
                                                replace=False)
    return [items[i] for i in sorted(chosen)]
