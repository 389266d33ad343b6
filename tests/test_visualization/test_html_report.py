"""mmcrack.visualization.html_report: the evaluation page (rows, F1 per
row against the evaluation's counts, measurements, overlays, relative
links only) and, marked slow, the page in headless Chromium."""
import html
import json
import os
import os.path as osp
import pathlib
import re
import shutil
import subprocess
from html.parser import HTMLParser
from urllib.parse import unquote, urlparse

import cv2
import numpy as np
import pytest

from mmcrack.analysis import measure_cracks
from mmcrack.evaluation import evaluate_folder, folder_counts, plot_pr_curves
from mmcrack.evaluation.functional import DEFAULT_THRESHOLDS
from mmcrack.visualization import (
    ERROR_COLOURS,
    MAX_MEASURED_CRACKS,
    drop_specks,
    method_slugs,
    report_row,
    write_html_report,
)

STEMS = ['a', 'b c', 'd#1', 'e', 'f', 'g']  # a space and a '#' on purpose


def write_case(root, h=48, w=64):
    """Photos, 0/255 masks and 8-bit predictions whose F1 differ from image
    to image. Returns (img_dir, gt_dir, pred_dir)."""
    dirs = [osp.join(root, d) for d in ('images', 'gt', 'pred')]
    for d in dirs:
        os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(0)
    for i, stem in enumerate(STEMS):
        gt = np.zeros((h, w), np.uint8)
        # graded values: the counts change from one threshold to the next
        pred = rng.integers(0, 90, (h, w)).astype(np.uint8)
        if stem != 'g':  # 'g': no crack, nothing above 90 -> F1 = 1 at ODS
            r = 6 + 6 * i
            gt[r:r + 3, 5:55] = 1
            ramp = np.linspace(250, 60 - 25 * i, 50)  # recall falls with i
            pred[r:r + 3, 5:55] = np.clip(ramp, 0, 255).astype(np.uint8)
            pred[40:44, 2:2 + 4 * i] = rng.integers(100, 250, (4, 4 * i))
        photo = rng.integers(120, 200, (h, w, 3), dtype=np.uint8)
        photo[gt > 0] //= 3
        cv2.imwrite(osp.join(dirs[0], stem + '.png'), photo)
        cv2.imwrite(osp.join(dirs[1], stem + '.png'), gt * 255)
        cv2.imwrite(osp.join(dirs[2], stem + '.png'), pred)
    return tuple(dirs)


class Page(HTMLParser):
    """The rows (data-* attributes, cell texts), every src/href, the
    script tags and the images of each row of a report page."""

    def __init__(self, text):
        super().__init__()
        self.rows, self.links, self.scripts, self.row_imgs = [], [], [], []
        self.heads = []
        self._cell = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ('src', 'href'):
            if key in a:
                self.links.append(a[key])
        if tag == 'script':
            self.scripts.append(a)
        if tag == 'th':
            self.heads.append(a)
        if tag == 'tr' and 'data-stem' in a:
            self.rows.append(dict(attrs=a, cells=[]))
            self.row_imgs.append([])
        if self.rows and tag == 'td':
            self._cell = ''
        if self.rows and tag == 'img' and self._cell is not None:
            self.row_imgs[-1].append(a['src'])

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag == 'td' and self._cell is not None:
            self.rows[-1]['cells'].append(self._cell.strip())
            self._cell = None


def expected_f1(tp, fp, fn):
    """F1 from counts, written out: 1 when there is neither crack nor
    prediction (P = R = 1), else 2TP / (2TP + FP + FN)."""
    if tp + fp + fn == 0:
        return 1.0
    return 2.0 * tp / (2.0 * tp + fp + fn)


def evaluate(pred_dir, gt_dir, out):
    s = evaluate_folder(pred_dir, gt_dir)
    os.makedirs(out, exist_ok=True)
    plot_pr_curves([('net', s)], osp.join(out, 'pr_curve.png'))
    return s


@pytest.fixture
def case(tmp_path):
    img_dir, gt_dir, pred_dir = write_case(str(tmp_path / 'data'))
    out = str(tmp_path / 'out')
    s = evaluate(pred_dir, gt_dir, out)
    return img_dir, gt_dir, pred_dir, out, s


def test_one_row_per_image_with_its_f1(case):
    img_dir, gt_dir, pred_dir, out, s = case
    pages = write_html_report(out, [('net', s)], images=img_dir)
    assert pages == [osp.join(out, 'index.html')]
    page = Page(open(pages[0], encoding='utf-8').read())
    assert sorted(r['attrs']['data-stem'] for r in page.rows) == sorted(STEMS)
    # the F1 of each row from the evaluation's own counts at ODS
    stems, counts = folder_counts(pred_dir, gt_dir, DEFAULT_THRESHOLDS)
    k = int(np.flatnonzero(DEFAULT_THRESHOLDS == s['ODS_thr'])[0])
    want = {st: expected_f1(*counts[i, k].tolist())
            for i, st in enumerate(stems)}
    assert want['g'] == 1.0  # nothing to find, nothing found
    assert len(set(want.values())) == len(STEMS)
    got = {r['attrs']['data-stem']: float(r['attrs']['data-f1'])
           for r in page.rows}
    for stem in STEMS:
        assert abs(got[stem] - want[stem]) <= 1e-12, stem
    # worst first; the mean of the rows' F1 is the ODS (f1_mode='mean')
    assert [r['attrs']['data-stem'] for r in page.rows] == sorted(
        STEMS, key=lambda st: (want[st], st))
    assert abs(np.mean(list(got.values())) - s['ODS']) <= 1e-12
    # the F1 cell shows the same number
    f1_col = [h.get('data-key') for h in page.heads].index('f1')
    for r in page.rows:
        assert r['cells'][f1_col] == f'{want[r["attrs"]["data-stem"]]:.4f}'
    # photo, prediction, ground truth, errors in each row
    assert all(len(imgs) == 4 for imgs in page.row_imgs)


def test_links_are_relative_and_local(case):
    img_dir, gt_dir, pred_dir, out, s = case
    path = write_html_report(out, [('net', s)], images=img_dir)[0]
    text = open(path, encoding='utf-8').read()
    assert 'http' not in text.lower()
    page = Page(text)
    assert page.scripts == [{}]  # one inline script, no src
    assert '<link' not in text and '@import' not in text
    assert 'pr_curve.png' in page.links
    assert len(page.links) == 1 + 4 * len(STEMS)
    for link in page.links:
        u = urlparse(link)
        assert not u.scheme and not u.netloc and not link.startswith('/')
        rel = unquote(u.path)
        assert '..' not in rel.split('/')
        assert osp.isfile(osp.join(out, rel)), link
    assert any('d%231' in link for link in page.links)  # '#' quoted
    assert any('b%20c' in link for link in page.links)
    thumbs = [f for _, _, fs in os.walk(osp.join(out, 'report')) for f in fs]
    assert not [f for f in thumbs if f.startswith('.tmp-')]


def test_overlay_file_colours_match_the_counts(case):
    img_dir, gt_dir, pred_dir, out, s = case
    write_html_report(out, [('net', s)], images=img_dir)
    thr = s['ODS_thr']
    for stem in STEMS:  # 48x64 < 160 px: the overlay is not downscaled
        pred = cv2.imread(osp.join(pred_dir, stem + '.png'), 0) / 255.0 >= thr
        gt = cv2.imread(osp.join(gt_dir, stem + '.png'), 0) >= 128
        ov = cv2.cvtColor(
            cv2.imread(osp.join(out, 'report', 'errors-net', stem + '.png')),
            cv2.COLOR_BGR2RGB)
        for sel, key in ((pred & gt, 'tp'), (pred & ~gt, 'fp'),
                         (~pred & gt, 'fn')):
            assert (ov[sel] == ERROR_COLOURS[key]).all(), (stem, key)
        rest = ov[~(pred | gt)]
        assert (rest[:, 0] == rest[:, 1]).all()  # grey photo elsewhere
        assert (rest[:, 1] == rest[:, 2]).all()
    # the pictured case has all three classes
    pred = cv2.imread(osp.join(pred_dir, 'e.png'), 0) / 255.0 >= thr
    gt = cv2.imread(osp.join(gt_dir, 'e.png'), 0) >= 128
    assert (pred & gt).any() and (pred & ~gt).any() and (~pred & gt).any()


def test_without_photos_three_pictures(case):
    _, gt_dir, pred_dir, out, s = case
    page = Page(open(write_html_report(out, [('net', s)])[0],
                     encoding='utf-8').read())
    assert all(len(imgs) == 3 for imgs in page.row_imgs)
    assert not osp.isdir(osp.join(out, 'report', 'image'))


def stroke(shape, p0, p1, width):
    """bool mask: pixel centres within width/2 of the segment p0-p1
    ((x, y) px): a pen stroke of centre-line length |p0 p1|."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    (x0, y0), (x1, y1) = p0, p1
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / (dx * dx + dy * dy), 0,
                1)
    return np.hypot(xx - x0 - t * dx, yy - y0 - t * dy) <= width / 2


def test_measurements_of_the_thresholded_prediction():
    crack = stroke((40, 80), (15, 20), (55, 20), 3)
    prob = np.where(crack, 0.9, 0.1)
    prob[2:4, 70:72] = 0.95  # a 4 px speck: not a crack
    gt = crack.copy()
    row, mask = report_row('x', prob, gt, 0.5)
    assert (mask == (prob >= 0.5)).all()
    assert (row.tp, row.fp, row.fn) == (crack.sum(), 4, 0)
    assert row.cracks == 1
    assert abs(row.total_length_px - 40) <= 1.5
    assert abs(row.max_width_px - 3) <= 0.75
    ref = measure_cracks(drop_specks(mask)).cracks
    assert row.total_length_px == ref[0].length_px
    assert row.max_width_px == ref[0].max_width_px
    # above the threshold nothing: no crack, P = 1, R = 0, F1 = 0
    row, _ = report_row('x', prob, gt, 0.99)
    assert (row.cracks, row.total_length_px, row.max_width_px) == (0, 0, 0)
    assert (row.precision, row.recall, row.f1) == (1.0, 0.0, 0.0)


def test_noise_is_counted_not_measured():
    many = np.zeros((100, 100), bool)
    for i in range(MAX_MEASURED_CRACKS + 1):  # squares of 25 px, apart
        y, x = divmod(i, 10)
        many[2 + 10 * y:7 + 10 * y, 2 + 10 * x:7 + 10 * x] = True
    row, _ = report_row('n', many.astype(float), np.zeros_like(many), 0.5)
    assert row.cracks == MAX_MEASURED_CRACKS + 1
    assert row.total_length_px is None and row.max_width_px is None
    half = np.zeros((100, 100), bool)
    half[:, :50] = True  # one crack over half the image
    row, _ = report_row('h', half.astype(float), half, 0.5)
    assert row.cracks == 1 and row.total_length_px is None
    assert row.f1 == 1.0


def test_unmeasured_cells_on_the_page(tmp_path):
    gt_dir, pred_dir = str(tmp_path / 'gt'), str(tmp_path / 'pred')
    os.makedirs(gt_dir)
    os.makedirs(pred_dir)
    half = np.zeros((30, 40), np.uint8)
    half[:, :30] = 255
    cv2.imwrite(osp.join(gt_dir, 'h.png'), half)
    cv2.imwrite(osp.join(pred_dir, 'h.png'), half)
    out = str(tmp_path / 'out')
    write_html_report(out, [('m', evaluate(pred_dir, gt_dir, out))])
    page = Page(open(osp.join(out, 'index.html'), encoding='utf-8').read())
    (row, ) = page.rows
    assert row['attrs']['data-length'] == row['attrs']['data-width'] == ''
    assert row['cells'][-2:] == ['\u2014', '\u2014']
    assert row['attrs']['data-cracks'] == '1'


def test_compare_one_page_per_method(case):
    img_dir, gt_dir, pred_dir, out, s = case
    other = osp.join(osp.dirname(pred_dir), 'other')
    os.makedirs(other)
    for stem in STEMS:  # the first method's map, upside down
        v = cv2.imread(osp.join(pred_dir, stem + '.png'), 0)
        cv2.imwrite(osp.join(other, stem + '.png'), v[::-1])
    s2 = evaluate_folder(other, gt_dir)
    labels = ['U-Net (ours)', 'flipped']
    assert method_slugs(labels) == ['u-net-ours', 'flipped']
    assert method_slugs(['a b', 'a-b', '']) == ['a-b', 'a-b-2', 'method']
    pages = write_html_report(out, list(zip(labels, [s, s2])),
                              images=img_dir)
    assert [osp.basename(p) for p in pages] == ['index.html',
                                                'report-flipped.html']
    first, second = (Page(open(p, encoding='utf-8').read()) for p in pages)
    for page in (first, second):
        assert len(page.rows) == len(STEMS)
        assert 'index.html' in page.links
        assert 'report-flipped.html' in page.links
    f1_second = {r['attrs']['data-stem']: r['attrs']['data-f1']
                 for r in second.rows}
    for r in first.rows:  # the other method's F1, sortable on each page
        assert r['attrs']['data-f1-m1'] == f1_second[r['attrs']['data-stem']]
    assert any('pred-flipped/' in src for src in sum(second.row_imgs, []))
    assert any('pred-u-net-ours/' in src for src in sum(first.row_imgs, []))
    s3 = dict(s2, stems=STEMS[:-1])
    with pytest.raises(ValueError, match='other images'):
        write_html_report(out, [('a', s), ('b', s3)])


def test_missing_photo_is_named(case):
    img_dir, gt_dir, pred_dir, out, s = case
    os.remove(osp.join(img_dir, 'e.png'))
    with pytest.raises(ValueError, match=r'no photo .*: e'):
        write_html_report(out, [('net', s)], images=img_dir)


# --------------------------------------------------------------------------
# In a real browser
# --------------------------------------------------------------------------

CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu',
                  '--disable-quic', '--no-first-run',
                  '--disable-background-networking',
                  '--disable-component-update', '--disable-sync',
                  '--hide-scrollbars')


def chromium():
    """Path of Debian's Chromium, or skip naming the package."""
    path = shutil.which('chromium') or (
        '/usr/bin/chromium' if osp.isfile('/usr/bin/chromium') else None)
    if path is None:
        pytest.skip("Chromium not found: install Debian's package "
                    "'chromium' (apt-get install -y chromium; "
                    'tools/install.sh does it when run as root)')
    return path


def run_chromium(tmp_path, *args):
    profile = tmp_path / 'chromium-profile'
    cmd = [chromium(), *CHROMIUM_FLAGS, f'--user-data-dir={profile}',
           '--virtual-time-budget=15000', *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.slow
def test_page_in_headless_chromium(tmp_path):
    """The page's ``?selftest=1`` loads every image, clicks the F1 header
    twice and writes what it saw into the DOM, which ``--dump-dom``
    prints."""
    from conftest import write_tiny_synthetic

    from mmcrack.evaluation.baselines import write_baseline_maps
    root = write_tiny_synthetic(str(tmp_path / 'syn'), seed=9,
                                splits=dict(test=8))
    img_dir = osp.join(root, 'images', 'test')
    gt_dir = osp.join(root, 'masks', 'test')
    write_baseline_maps(img_dir, str(tmp_path / 'maps'))
    out = str(tmp_path / 'report a#b')  # the URL needs quoting too
    s = evaluate(str(tmp_path / 'maps' / 'darkness'), gt_dir, out)
    index = write_html_report(out, [('darkness', s)], images=img_dir)[0]
    page = Page(open(index, encoding='utf-8').read())
    f1 = {r['attrs']['data-stem']: float(r['attrs']['data-f1'])
          for r in page.rows}
    assert len(f1) == 8 and len(set(f1.values())) >= 4  # a real sort
    worst_first = sorted(f1, key=lambda st: (f1[st], st))
    best_first = sorted(f1, key=lambda st: (-f1[st], st))

    url = pathlib.Path(index).resolve().as_uri() + '?selftest=1'
    assert '%20' in url and '%23' in url
    dom = run_chromium(tmp_path, '--dump-dom', url)
    found = re.search(r'<pre id="selftest-result">(.*?)</pre>', dom, re.S)
    assert found, 'the selftest wrote no result:\n' + dom[-2000:]
    res = json.loads(html.unescape(found.group(1)))
    assert res['rows'] == 8
    assert res['images'] == 1 + 4 * 8  # the PR curve and 4 per row
    assert res['broken'] == []
    assert res['initial'] == worst_first
    assert res['first_click'] == best_first
    assert res['first_click_sort'] == 'descending'
    assert res['second_click'] == worst_first
    assert res['second_click_sort'] == 'ascending'

    shot = tmp_path / 'shot.png'
    run_chromium(tmp_path, '--window-size=900,600', f'--screenshot={shot}',
                 url.replace('?selftest=1', ''))
    img = cv2.imread(str(shot))
    assert img is not None and img.shape[:2] == (600, 900)
    assert img.std() > 10  # not a blank page
