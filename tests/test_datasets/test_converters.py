"""Generic converters (image + mask folders, JPEG masks), label decoding
and the rules every converter follows (--force, bad pairs, atomic output).

Every converted mask is compared with the expected 0/255 mask exactly.
"""
import os

import cv2
import numpy as np
import pytest
from converter_helpers import (
    crack,
    image,
    listing,
    read_bytes,
    read_png,
    summary_of,
    tool,
    write,
)
from PIL import Image

from mmcrack.datasets.converters.folders import decode_mask
from mmcrack.datasets.converters.jpeg_masks import decode_jpeg_mask
from mmcrack.datasets.converters.labels import read_label

# -------------------------------------------------------- label decoding
GREY = np.array([[0, 1, 204, 255]], np.uint8)


@pytest.mark.parametrize('mode', ['L', 'LA', 'RGB', 'RGBA', 'I;16', 'P'])
def test_read_label_grey_in_any_mode(tmp_path, mode):
    path = str(tmp_path / 'm.png')
    if mode == 'P':  # a grey palette: the grey values count
        im = Image.fromarray(GREY).convert('P')
    elif mode == 'I;16':
        im = Image.fromarray(GREY.astype(np.uint16))
    else:
        im = Image.fromarray(GREY).convert(mode)
    im.save(path)
    assert Image.open(path).mode == mode
    out = read_label(path)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, GREY)


def test_read_label_one_bit_palette_and_errors(tmp_path):
    Image.fromarray(np.array([[True, False]])).save(tmp_path / 'b.png')
    np.testing.assert_array_equal(read_label(str(tmp_path / 'b.png')),
                                  [[255, 0]])
    im = Image.fromarray(np.array([[0, 1, 2]], np.uint8), 'P')
    im.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0])  # class colours
    im.save(tmp_path / 'p.png')
    np.testing.assert_array_equal(read_label(str(tmp_path / 'p.png')),
                                  [[0, 1, 2]])
    Image.fromarray(np.array([[0, 300]], np.uint16)).save(tmp_path / 'w.png')
    with pytest.raises(ValueError, match='w.png: I;16 label with values '
                       'outside 0..255'):
        read_label(str(tmp_path / 'w.png'))
    (tmp_path / 'x.png').write_bytes(b'not a png')
    with pytest.raises(ValueError, match='x.png: cannot be decoded'):
        read_label(str(tmp_path / 'x.png'))


# ---------------------------------------------------- JPEG masks, generic
def test_jpeg_masks_with_ringing(tmp_path):
    h, w = 64, 96
    clean = np.zeros((h, w), np.uint8)
    cv2.line(clean, (3, 5), (90, 57), 255, 2)
    cv2.line(clean, (3, 50), (60, 2), 255, 2)
    (tmp_path / 'gt').mkdir()
    for stem, quality in (('a', 75), ('b', 30)):
        write(tmp_path / 'img' / f'{stem}.png', image(h, w, ord(stem)))
        cv2.imwrite(str(tmp_path / 'gt' / f'{stem}.jpg'), clean,
                    [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = {
        stem: np.asarray(Image.open(tmp_path / 'gt' / f'{stem}.jpg'))
        for stem in 'ab'
    }
    # ringing in both; at quality 75 within 64 levels of 0 / 255
    non_binary = {k: int(np.sum((d != 0) & (d != 255)))
                  for k, d in decoded.items()}
    assert min(non_binary.values()) > 100
    ambiguous = {k: int(np.sum((d > 64) & (d < 191)))
                 for k, d in decoded.items()}
    assert ambiguous['a'] == 0 and ambiguous['b'] > 10
    out = tmp_path / 'out'
    summary = tool('jpeg_masks').main(
        [str(tmp_path / 'img'), str(tmp_path / 'gt'), '-o', str(out),
         '--split', 'test'])
    for stem in 'ab':
        np.testing.assert_array_equal(
            read_png(out / 'masks' / 'test' / f'{stem}.png'), clean)
        assert read_bytes(out / 'images' / 'test' / f'{stem}.png') == \
            read_bytes(tmp_path / 'img' / f'{stem}.png')
    stats = summary['splits']['test']['stats']
    assert stats['ambiguous_pixels'] == ambiguous['b']
    assert stats['non_binary_pixels'] == sum(non_binary.values())
    assert summary['total']['stats_share']['ambiguous_pixels'] == round(
        ambiguous['b'] / (2 * h * w), 6)


def test_jpeg_threshold_and_margin_definition(tmp_path):
    values = np.array([[0, 64, 65, 127, 128, 190, 191, 255]], np.uint8)
    path = write(tmp_path / 'm.png', values)
    conv = decode_jpeg_mask(path)
    np.testing.assert_array_equal(conv.mask, [[0, 0, 0, 0, 255, 255, 255,
                                               255]])
    assert conv.stats == dict(ambiguous_pixels=4, non_binary_pixels=6)
    conv = decode_jpeg_mask(path, threshold=64, margin=0, inverted=True)
    np.testing.assert_array_equal(conv.mask, [[255, 255, 255, 255, 255, 255,
                                               0, 0]])
    assert conv.stats['ambiguous_pixels'] == 6


def test_jpeg_masks_of_zero_one_are_refused(tmp_path):
    """A 0/1 mask would come out empty at threshold 127: refused, naming
    the file and the converter to use."""
    path = write(tmp_path / 'm01.png', np.array([[0, 1, 1, 0]], np.uint8))
    with pytest.raises(ValueError, match=r'm01.png.*0/1.*--mask-rule 0-1'):
        decode_jpeg_mask(path)


@pytest.mark.parametrize('rule,stored,expected', [
    ('0-255', [0, 255, 127, 128], [0, 255, 0, 255]),
    ('0-1', [0, 1, 1, 0], [0, 255, 255, 0]),
    ('inverted', [255, 0, 127, 128], [0, 255, 255, 0]),
])
def test_mask_rules(tmp_path, rule, stored, expected):
    path = write(tmp_path / 'm.png', np.array([stored], np.uint8))
    np.testing.assert_array_equal(decode_mask(path, rule).mask, [expected])


def test_mask_rule_errors(tmp_path):
    path = write(tmp_path / 'm.png', np.array([[0, 1]], np.uint8))
    with pytest.raises(ValueError, match="only 0/1 values.*'nonzero'"):
        decode_mask(path, '0-255')
    path = write(tmp_path / 'n.png', np.array([[0, 2, 255]], np.uint8))
    with pytest.raises(ValueError, match='rule 0-1 but the mask holds '
                       'values 2, 255'):
        decode_mask(path, '0-1')


def test_folders_image_formats_and_rules(tmp_path):
    img = image(6, 10, 0)
    write(tmp_path / 'img' / 'a.jpeg', img)
    write(tmp_path / 'img' / 'b.bmp', img)
    for stem, row in (('a', 1), ('b', 3)):  # 0/1 masks
        write(tmp_path / 'gt' / f'{stem}.png',
              (crack(6, 10, [row], range(10)) > 0).astype(np.uint8))
    out = tmp_path / 'out'
    summary = tool('image_mask_folders').main(
        [str(tmp_path / 'img'), str(tmp_path / 'gt'), '-o', str(out),
         '--mask-rule', '0-1'])
    assert listing(out) == ['conversion.json', 'images/train/a.jpg',
                            'images/train/b.png', 'masks/train/a.png',
                            'masks/train/b.png']
    # .jpeg: same bytes, named .jpg; BMP: decoded, lossless PNG
    assert read_bytes(out / 'images/train/a.jpg') == \
        read_bytes(tmp_path / 'img/a.jpeg')
    np.testing.assert_array_equal(cv2.imread(str(out / 'images/train/b.png')),
                                  img)
    assert summary['images'] == dict(copied_unchanged=1, reencoded_png=1)
    assert summary_of(out) == {
        k: v for k, v in summary.items() if k != 'out_dir'}
    assert summary['dataset'] == 'image/mask folders'
    assert summary['source'] == str(tmp_path)
    assert summary['options'] == dict(mask_rule='0-1', pairs=dict(train=dict(
        images=str(tmp_path / 'img'), masks=str(tmp_path / 'gt'))))
    assert ('1 image(s) were neither JPEG nor PNG (e.g. b.bmp): decoded and '
            'written as lossless 8-bit RGB PNG') in summary['notes']
    for stem, row in (('a', 1), ('b', 3)):
        np.testing.assert_array_equal(
            read_png(out / 'masks' / 'train' / f'{stem}.png'),
            crack(6, 10, [row], range(10)))
    # a 0/255 mask under the 0-1 rule is refused
    write(tmp_path / 'gt' / 'a.png', crack(6, 10, [1], range(10)))
    with pytest.raises(SystemExit, match='rule 0-1 but the mask holds'):
        tool('image_mask_folders').main(
            [str(tmp_path / 'img'), str(tmp_path / 'gt'), '-o',
             str(out), '--force', '--mask-rule', '0-1', '--split', 'x'])


# ------------------------------------------------------------ CLI rules
@pytest.fixture
def two_splits(tmp_path):
    for split, stem in [('train', 'a'), ('train', 'b'), ('test', 'c')]:
        write(tmp_path / 'src' / f'{split}_img' / f'{stem}.jpg',
              image(6, 8, ord(stem)))
        write(tmp_path / 'src' / f'{split}_gt' / f'{stem}.png',
              crack(6, 8, [2], range(8)))
    src = tmp_path / 'src'
    return [str(src / 'train_img'), str(src / 'train_gt'),
            str(src / 'test_img'), str(src / 'test_gt')]


def test_force_refusal_and_replacement(tmp_path, two_splits):
    out = tmp_path / 'out'
    write(out / 'images' / 'train' / 'old.png', image(4, 4, 0))
    write(out / 'images' / 'val' / 'keep.png', image(4, 4, 0))
    (out / 'NOTES.txt').write_text('mine')
    argv = two_splits + ['-o', str(out), '--split', 'train', 'test']
    with pytest.raises(SystemExit) as e:
        tool('image_mask_folders').main(argv)
    assert str(e.value) == (
        f'image_mask_folders: error: output folder {out} is not empty; use '
        '--force to write into it (files of the same name are replaced, and '
        'other image and mask files in the split folders written are '
        'removed)')
    assert listing(out) == ['NOTES.txt', 'images/train/old.png',
                            'images/val/keep.png']
    summary = tool('image_mask_folders').main(argv + ['--force'])
    assert summary['removed_by_force'] == 1
    assert listing(out) == [
        'NOTES.txt', 'conversion.json', 'images/test/c.jpg',
        'images/train/a.jpg', 'images/train/b.jpg', 'images/val/keep.png',
        'masks/test/c.png', 'masks/train/a.png', 'masks/train/b.png']
    assert [f for f in os.listdir(out / 'masks' / 'train')
            if f.startswith('.')] == []


def test_bad_pairs_all_named_nothing_written(tmp_path, two_splits):
    src = tmp_path / 'src'
    write(src / 'train_gt' / 'a.png', np.zeros((7, 8), np.uint8))  # size
    data = read_bytes(src / 'train_img' / 'b.jpg')
    (src / 'train_img' / 'b.jpg').write_bytes(data[:len(data) // 2])
    (src / 'test_gt' / 'c.png').write_bytes(b'')
    out = tmp_path / 'out'
    with pytest.raises(SystemExit) as e:
        tool('image_mask_folders').main(
            two_splits + ['-o', str(out), '--split', 'train', 'test'])
    msg = str(e.value)
    assert msg.startswith(f'image_mask_folders: error: 3 bad pair(s) of 3 '
                          f'in {src}; nothing was written:\n  ')
    lines = msg.split('\n')[1:]
    assert lines[0] == (
        f"  train/a: size mismatch: image {src / 'train_img/a.jpg'} is 8x6 "
        f"(WxH) but label {src / 'train_gt/a.png'} is 8x7")
    assert lines[1].startswith(
        f"  train/b: {src / 'train_img/b.jpg'}: cannot be decoded")
    assert lines[2] == f"  test/c: {src / 'test_gt/c.png'}: file is empty " \
        '(0 bytes)'
    assert listing(out) == []


def test_output_holding_the_source_is_refused(tmp_path, two_splits):
    with pytest.raises(SystemExit, match='holds 4 source file'):
        tool('image_mask_folders').main(
            two_splits[:2] + ['-o', str(tmp_path), '--force'])
