"""tools/measure_cracks.py and measure_folder: CSV columns and rows,
summaries, overlays, mm columns, refusal of an unwritable --out, and
tools/infer.py --measure."""
import csv
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from conftest import REPO, run_tool

from mmcrack.analysis import CSV_COLUMNS, MM_COLUMNS, measure_folder
from mmcrack.utils.file_io import NotWritableError

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(__file__)),
                            'test_analysis'))
from crack_drawing import segment, stroke  # noqa: E402

H, W = 160, 240


def read_csv(path):
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


@pytest.fixture(scope='module')
def maps(tmp_path_factory):
    """a.png: 0/255 mask, 2 cracks (horizontal 180 px w5, vertical 100 px
    w3); b.npy: float map, 1 diagonal crack (120 px w7, p=0.8) and a 0.3
    halo that the 0.5 threshold leaves out; c.png: 8-bit probability, an
    empty map; photos of the same size in images/."""
    root = tmp_path_factory.mktemp('measure')
    folder = root / 'maps'
    images = root / 'images'
    folder.mkdir()
    images.mkdir()
    a = (stroke((H, W), [(30.2, 30.3), (210.2, 30.3)], 5)
         | stroke((H, W), [(120.4, 50.1), (120.4, 150.1)], 3))
    cv2.imwrite(str(folder / 'a.png'), a.astype(np.uint8) * 255)
    b = np.zeros((H, W), np.float32)
    b[stroke((H, W), segment((120.3, 80.2), 45, 140), 11)] = 0.3
    b[stroke((H, W), segment((120.3, 80.2), 45, 120), 7)] = 0.8
    np.save(folder / 'b.npy', b)
    cv2.imwrite(str(folder / 'c.png'), np.full((H, W), 60, np.uint8))
    for stem in 'abc':
        cv2.imwrite(str(images / f'{stem}.jpg'),
                    np.full((H, W, 3), (20, 90, 160), np.uint8))
    return str(folder), str(images)


def test_cli_csv_summary_overlays(maps, tmp_path):
    folder, images = maps
    out = tmp_path / 'out'
    proc = run_tool(['tools/measure_cracks.py', folder, '--out', str(out),
                     '--images', images])
    assert '3 image(s), 3 crack(s)' in proc.stdout
    columns, rows = read_csv(out / 'cracks.csv')
    assert columns == list(CSV_COLUMNS)  # no mm columns without --px-size
    assert [(r['image'], r['crack_id']) for r in rows] == [
        ('a', '1'), ('a', '2'), ('b', '1')]
    expect = [(180, 5, 'transverse'), (100, 3, 'longitudinal'),
              (120, 7, 'diagonal')]
    for row, (length, width, orientation) in zip(rows, expect):
        assert abs(float(row['length_px']) - length) <= 0.03 * length
        assert abs(float(row['max_width_px']) - width) <= 1.0
        assert abs(float(row['mean_width_px']) - width) <= 1.0
        assert row['orientation'] == orientation
        assert (row['junctions'], row['endpoints'], row['branching']) == (
            '0', '2', '0')
    assert int(rows[0]['bbox_x']) == 28 and int(rows[0]['bbox_w']) == 185
    summary = json.loads((out / 'summary' / 'a.json').read_text())
    assert (summary['image'], summary['height'], summary['width']) == (
        'a', H, W)
    assert summary['cracks'] == 2 and summary['branching'] == 0
    assert summary['orientation'] == dict(transverse=1, longitudinal=1,
                                          diagonal=0)
    assert summary['longest']['crack_id'] == 1
    assert summary['widest']['crack_id'] == 1
    assert summary['total_length_px'] == pytest.approx(
        float(rows[0]['length_px']) + float(rows[1]['length_px']), abs=0.02)
    assert summary['total_area_px'] == int(rows[0]['area_px']) + int(
        rows[1]['area_px'])
    empty = json.loads((out / 'summary' / 'c.json').read_text())
    assert empty['cracks'] == 0 and empty['longest'] is None
    for stem in 'abc':
        overlay = cv2.imread(str(out / 'overlay' / f'{stem}.png'))
        assert overlay.shape == (H, W, 3)
    # drawn over the photo: a corner far from any crack keeps its colour
    overlay = cv2.imread(str(out / 'overlay' / 'c.png'))
    assert (overlay == (20, 90, 160)).all()
    leftovers = [n for n in os.listdir(out) if n.startswith('.tmp-')]
    assert leftovers == []


def test_px_size_adds_mm_columns(maps, tmp_path):
    folder, _ = maps
    out = tmp_path / 'mm'
    run_tool(['tools/measure_cracks.py', folder, '--out', str(out),
              '--px-size', '0.2', '--min-length', '110'])
    columns, rows = read_csv(out / 'cracks.csv')
    assert columns == list(CSV_COLUMNS) + list(MM_COLUMNS)
    # min-length 110 drops the 100 px crack of a.png
    assert [(r['image'], r['crack_id']) for r in rows] == [('a', '1'),
                                                           ('b', '1')]
    for r in rows:
        for px, mm, scale in (('length_px', 'length_mm', 0.2),
                              ('max_width_px', 'max_width_mm', 0.2),
                              ('mean_width_px', 'mean_width_mm', 0.2),
                              ('area_px', 'area_mm2', 0.04)):
            assert float(r[mm]) == pytest.approx(float(r[px]) * scale,
                                                 abs=0.01)
    summary = json.loads((out / 'summary' / 'a.json').read_text())
    assert summary['px_size_mm'] == 0.2 and summary['cracks'] == 1
    assert summary['total_length_mm'] == pytest.approx(
        summary['total_length_px'] * 0.2, abs=0.01)
    # the overlay is drawn over the map itself (no --images)
    overlay = cv2.imread(str(out / 'overlay' / 'a.png'))
    assert overlay.shape == (H, W, 3)
    assert (overlay[150:, :20] == 0).all()  # background of the map


def _refused(args):
    proc = subprocess.run([sys.executable, 'tools/measure_cracks.py'] + args,
                          cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=REPO),
                          timeout=300)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    return proc.stderr.strip().splitlines()[-1]


def test_unwritable_out_is_refused(maps, tmp_path):
    folder, _ = maps
    blocker = tmp_path / 'a_file'
    blocker.write_text('not a folder')
    # refused before any work: the missing input folder is not even read
    line = _refused([str(tmp_path / 'missing'), '--out',
                     str(blocker / 'out')])
    assert line == (f'measure_cracks: error: cannot create --out folder '
                    f'{blocker}/out ({blocker} is a file, not a folder)')
    line = _refused([folder, '--out', str(tmp_path / 'ok'),
                     '--px-size', '0'])
    assert line == ('measure_cracks: error: px size must be > 0 (mm per '
                    'px), got 0.0')
    assert not osp.exists(tmp_path / 'ok' / 'cracks.csv')
    with pytest.raises(NotWritableError, match='exists and is not a folder'):
        measure_folder(folder, str(blocker))


def test_measure_folder_checks(maps, tmp_path):
    folder, images = maps
    result = measure_folder(folder, str(tmp_path / 'one'), stems=['b'],
                            images=osp.join(images, 'b.jpg'))
    assert list(result['summaries']) == ['b'] and len(result['rows']) == 1
    assert sorted(os.listdir(tmp_path / 'one' / 'overlay')) == ['b.png']
    # the threshold: 0.3 >= 0.25 takes in the halo of b.npy (11 px wide)
    wide = measure_folder(folder, str(tmp_path / 'low'), threshold=0.25,
                          stems=['b'])
    assert float(wide['rows'][0]['max_width_px']) == pytest.approx(11,
                                                                   abs=1.0)
    with pytest.raises(ValueError, match='have no image'):
        measure_folder(folder, str(tmp_path / 'x'),
                       images={'a': osp.join(images, 'a.jpg')})
    small = tmp_path / 'small'
    small.mkdir()
    cv2.imwrite(str(small / 'a.jpg'), np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ValueError, match='is 10x10 but its map'):
        measure_folder(folder, str(tmp_path / 'y'), images=str(small),
                       stems=['a'])
    with pytest.raises(ValueError, match='no masks or probability maps'):
        measure_folder(str(small), str(tmp_path / 'z'))


@pytest.mark.slow
def test_infer_measure(tiny_seg_checkpoint, tiny_synthetic, tmp_path):
    """tools/infer.py --measure measures the masks it wrote, at its own
    threshold, over the input photos."""
    config, ckpt = tiny_seg_checkpoint
    folder = osp.join(tiny_synthetic, 'images', 'test')
    proc = run_tool(['tools/infer.py', config, ckpt, folder, '--out',
                     str(tmp_path), '--device', 'cpu', '--threshold', '0.4',
                     '--measure', '--px-size', '0.5'])
    assert 'crack(s) measured' in proc.stdout
    columns, rows = read_csv(tmp_path / 'measure' / 'cracks.csv')
    assert columns == list(CSV_COLUMNS) + list(MM_COLUMNS)
    for stem in ('test_0000', 'test_0001'):
        summary = json.loads(
            (tmp_path / 'measure' / 'summary' / f'{stem}.json').read_text())
        assert summary['threshold'] == 0.4
        mask = cv2.imread(str(tmp_path / 'mask' / f'{stem}.png'),
                          cv2.IMREAD_GRAYSCALE)
        # every crack pixel of the mask is in one measured crack
        assert summary['total_area_px'] == int((mask > 0).sum())
        overlay = cv2.imread(
            str(tmp_path / 'measure' / 'overlay' / f'{stem}.png'))
        assert overlay.shape[:2] == mask.shape
