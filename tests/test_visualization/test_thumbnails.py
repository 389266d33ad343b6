"""mmcrack.visualization.thumbnails: error overlay colours, block
downscaling that keeps thin cracks, thumbnail sizes and files."""
import cv2
import numpy as np
import pytest

from mmcrack.visualization.thumbnails import (
    BACKGROUND_DIM,
    BACKGROUND_STEP,
    ERROR_COLOURS,
    block_max,
    error_overlay,
    error_thumbnail,
    map_thumbnail,
    photo_thumbnail,
    thumbnail_shape,
    write_thumbnail,
)

TP, FP, FN = (ERROR_COLOURS[k] for k in ('tp', 'fp', 'fn'))


def dimmed(v):
    """The overlay's background for photo grey level ``v``."""
    return int(v * BACKGROUND_DIM) // BACKGROUND_STEP * BACKGROUND_STEP


def test_colours_are_three_distinct_ones():
    assert len({TP, FP, FN}) == 3
    # none is grey, so no dimmed photo pixel can be taken for an error
    assert all(len(set(c)) > 1 for c in (TP, FP, FN))


def test_error_overlay_puts_each_class_where_it_is():
    pred = np.zeros((6, 8), bool)
    gt = np.zeros((6, 8), bool)
    pred[1, 1] = gt[1, 1] = True  # TP
    pred[2, 5] = pred[2, 6] = True  # FP
    gt[4, 0] = gt[5, 7] = True  # FN
    photo = np.full((6, 8, 3), 200, np.uint8)  # grey 200 -> 96
    out = error_overlay(pred, gt, photo)
    assert out.dtype == np.uint8 and out.shape == (6, 8, 3)
    assert tuple(out[1, 1]) == TP
    assert tuple(out[2, 5]) == tuple(out[2, 6]) == FP
    assert tuple(out[4, 0]) == tuple(out[5, 7]) == FN
    coloured = pred | gt
    assert (out[~coloured] == dimmed(200)).all()
    assert dimmed(200) == 96
    # without a photo the background is black
    black = error_overlay(pred, gt)
    assert (black[~coloured] == 0).all() and tuple(black[4, 0]) == FN


def test_error_overlay_grey_photo_and_bad_input():
    photo = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    out = error_overlay(np.zeros((3, 4), bool), np.zeros((3, 4), bool),
                        photo)
    expected = [dimmed(v) for v in photo.ravel()]
    assert out[..., 0].ravel().tolist() == expected
    with pytest.raises(ValueError, match='one size'):
        error_overlay(np.zeros((3, 4), bool), np.zeros((4, 3), bool))
    with pytest.raises(ValueError, match='background'):
        error_overlay(np.zeros((3, 4), bool), np.zeros((3, 4), bool),
                      np.zeros((3, 5), np.uint8))


def test_thumbnail_shape_never_upscales():
    assert thumbnail_shape((384, 544), 160) == (113, 160)
    assert thumbnail_shape((544, 384), 160) == (160, 113)
    assert thumbnail_shape((64, 64), 160) == (64, 64)
    assert thumbnail_shape((1000, 3), 100) == (100, 1)
    with pytest.raises(ValueError):
        thumbnail_shape((0, 5), 10)


def test_block_max_equals_the_loop():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (37, 23), dtype=np.uint8)
    h, w = 10, 7
    out = block_max(a, (h, w))
    r = [i * 37 // h for i in range(h)] + [37]
    c = [j * 23 // w for j in range(w)] + [23]
    ref = np.array([[a[r[i]:r[i + 1], c[j]:c[j + 1]].max() for j in range(w)]
                    for i in range(h)])
    assert out.dtype == np.uint8 and (out == ref).all()
    assert (block_max(a, (37, 23)) == a).all()
    with pytest.raises(ValueError):
        block_max(a, (38, 23))


def test_error_thumbnail_keeps_a_one_pixel_crack():
    # 100x100 -> 25x25: one 4x4 block per thumbnail pixel
    pred = np.zeros((100, 100), bool)
    gt = np.zeros((100, 100), bool)
    gt[:, 37] = True  # a one-pixel-wide vertical crack, all missed (FN)
    gt[0:4, 80:84] = True  # block (0, 20): 3 TP + 1 FN -> TP
    pred[0:4, 80:84] = True
    pred[3, 83] = False
    gt[40, 60] = True  # block (10, 15): 1 FN and 3 FP -> FP
    pred[41, 61] = pred[41, 62] = pred[42, 62] = True
    pred[88, 4] = True  # block (22, 1): a lone FP pixel
    photo = np.full((100, 100), 255, np.uint8)
    out = error_thumbnail(pred, gt, photo, max_side=25)
    assert out.shape == (25, 25, 3)
    assert all(tuple(px) == FN for px in out[:, 37 // 4])
    assert tuple(out[0, 20]) == TP
    assert tuple(out[10, 15]) == FP
    assert tuple(out[22, 1]) == FP
    # every other pixel is the (dimmed, white) photo
    hit = np.zeros((25, 25), bool)
    hit[:, 9] = hit[0, 20] = hit[10, 15] = hit[22, 1] = True
    assert (out[~hit] == dimmed(255)).all()
    # a block with as many FN as FP pixels shows FN (errors come first)
    pred2 = np.zeros((4, 4), bool)
    gt2 = np.zeros((4, 4), bool)
    pred2[0, 0] = gt2[3, 3] = True
    tie = error_thumbnail(pred2, gt2, None, max_side=1)
    assert tuple(tie[0, 0]) == FN


def test_map_and_photo_thumbnails():
    prob = np.zeros((60, 90), np.float32)
    prob[30, :] = 1.0  # one bright row
    prob[5, 5] = 0.5
    t = map_thumbnail(prob, max_side=30)  # 3x3 blocks
    assert t.shape == (20, 30) and t.dtype == np.uint8
    assert (t[10] == 255).all() and t[1, 1] == 128
    assert (np.delete(t, [1, 10], axis=0) == 0).all()
    mask = np.zeros((8, 8), bool)
    mask[2, 3] = True
    tm = map_thumbnail(mask, max_side=4)
    assert tm[1, 1] == 255 and tm.sum() == 255
    photo = np.full((60, 90, 3), (10, 20, 30), np.uint8)
    tp = photo_thumbnail(photo, max_side=45)
    assert tp.shape == (30, 45, 3) and (tp == (10, 20, 30)).all()


def test_write_thumbnail_png_is_exact(tmp_path):
    img = np.zeros((5, 6, 3), np.uint8)
    img[1, 2] = FP
    img[3, 4] = FN
    path = str(tmp_path / 'sub' / 'x.png')
    write_thumbnail(path, img)
    back = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
    assert (back == img).all()
    write_thumbnail(str(tmp_path / 'y.jpg'), np.full((8, 8), 77, np.uint8))
    assert abs(int(cv2.imread(str(tmp_path / 'y.jpg'), 0).mean()) - 77) <= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ['sub', 'y.jpg']
