"""mmcrack.utils.windows: the window geometry against a slow enumeration."""
import numpy as np
import pytest

from mmcrack.utils.windows import window_grid, window_origins


@pytest.mark.parametrize('h,w,size,stride', [(320, 480, 32, 16),
                                             (333, 517, 128, 64),
                                             (20, 20, 32, 16),
                                             (384, 544, 128, 64)])
def test_origins_are_every_stride_multiple_that_fits_the_padded_image(
        h, w, size, stride):
    nh, nw, hp, wp = window_grid(h, w, size, stride)
    assert hp % size == 0 and wp % size == 0 and hp - size < h <= hp
    slow = [(y, x) for y in range(0, hp, stride) for x in range(0, wp, stride)
            if y + size <= hp and x + size <= wp]
    ys, xs = window_origins(h, w, size, stride)
    assert len(ys) == nh * nw == len(slow)
    assert list(zip(ys.tolist(), xs.tolist())) == slow
    assert ys.dtype == np.int32


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match='positive'):
        window_grid(10, 10, 0, 1)
