"""A static HTML page of an evaluation: one row per image, worst first.

    OUT/index.html                  the first method's page
    OUT/report-<slug>.html          each further method's page (--compare)
    OUT/report/image/<stem>.jpg     input photo thumbnails (when known)
    OUT/report/gt/<stem>.png        ground-truth thumbnails
    OUT/report/pred-<slug>/<stem>.jpg|png    prediction thumbnails
    OUT/report/errors-<slug>/<stem>.png      TP / FP / FN overlays

Each row shows the photo, the prediction, the ground truth and the error
overlay at the method's ODS threshold, the image's F1 / precision / recall
at that threshold and the crack measurements of the thresholded prediction
(count, total length, largest width). Clicking a column header sorts the
rows by it (a few lines of inline JavaScript); the page opens sorted by F1,
ascending. With several methods every page links the others and shows, per
row, the F1 of every method, so one can sort by any of them.

The page needs nothing but the files under OUT: relative links only, no
external script, style or font. Every file is written atomically, the
pages last. Opening a page with ``?selftest=1`` makes it load every
thumbnail, sort by F1 twice and write what it saw as JSON into
``<pre id="selftest-result">`` (used by the browser test).
"""
import html
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple
from urllib.parse import quote

import numpy as np

from mmcrack.evaluation.folder_eval import (
    PRED_EXTENSIONS,
    load_gt_mask,
    load_prob_map,
)
from mmcrack.utils.file_io import (
    IMG_EXTENSIONS,
    MASK_EXTENSIONS,
    atomic_write_bytes,
    ensure_writable_dir,
    list_stems,
    read_image,
)

from .report_rows import (
    MAX_MEASURED_CRACKS,
    MAX_MEASURED_FRACTION,
    MIN_AREA_PX,
    ReportRow,
    report_row,
)
from .thumbnails import (
    ERROR_COLOURS,
    THUMB_SIDE,
    error_thumbnail,
    map_thumbnail,
    photo_thumbnail,
    write_thumbnail,
)

__all__ = ['REPORT_DIR', 'method_slugs', 'page_names', 'write_html_report']

REPORT_DIR = 'report'
MAX_SIDE = THUMB_SIDE  # px, thumbnails' longest side (files and display)


def method_slugs(labels: Sequence[str]) -> List[str]:
    """File-name-safe, unique names for method labels.

    Args:
        labels: method labels (any text).

    Returns:
        one slug per label: lower case ``[a-z0-9-]`` (``'method'`` when
        nothing is left), ``-2``, ``-3`` ... appended to repeats.
    """
    out = []
    for label in labels:
        base = re.sub(r'[^a-z0-9]+', '-', str(label).lower()).strip('-')
        base = base or 'method'
        slug, i = base, 2
        while slug in out:
            slug, i = f'{base}-{i}', i + 1
        out.append(slug)
    return out


def page_names(labels: Sequence[str]) -> List[str]:
    """The page of each method: ``index.html`` for the first,
    ``report-<slug>.html`` for the others."""
    slugs = method_slugs(labels)
    return ['index.html'] + [f'report-{s}.html' for s in slugs[1:]]


def _url(relpath: str) -> str:
    """A relative URL for a path under the output folder."""
    return html.escape(quote(relpath.replace(osp.sep, '/')), quote=True)


def _paths(folder: str, exts, stems: Sequence[str], what: str) -> Dict:
    files = list_stems(folder, exts)
    missing = [s for s in stems if s not in files]
    if missing:
        shown = ', '.join(missing[:20])
        more = f', … ({len(missing)} in all)' if len(missing) > 20 else ''
        raise ValueError(f'{len(missing)} image(s) have no {what} in '
                         f'{folder}: {shown}{more}')
    return files


class _Thumbs:
    """Writes the thumbnails of one image; remembers their URLs and
    display sizes."""

    def __init__(self, out_dir: str, max_side: int):
        self.out_dir = out_dir
        self.max_side = max_side

    def write(self, rel: str, picture: np.ndarray,
              shape: Tuple[int, int]) -> Dict:
        write_thumbnail(osp.join(self.out_dir, rel), picture)
        scale = self.max_side / max(shape)
        return dict(src=_url(rel), w=max(1, round(shape[1] * scale)),
                    h=max(1, round(shape[0] * scale)))


def write_html_report(out_dir: str,
                      methods: Sequence[Tuple[str, Dict]],
                      gt_dir: Optional[str] = None,
                      images: Optional[str] = None,
                      mask_rule: str = 'ge128',
                      pr_curve: Optional[str] = 'pr_curve.png',
                      max_side: int = MAX_SIDE,
                      min_area: int = MIN_AREA_PX,
                      title: Optional[str] = None) -> List[str]:
    """Write the report pages and thumbnails of evaluated methods.

    Args:
        out_dir: the evaluation's output folder (refused before any work
            when it cannot be written).
        methods: ``[(label, summary), ...]``, summaries from
            :func:`mmcrack.evaluation.evaluate_folder` (their ``stems``,
            ``pred_dir``, ``gt_dir``, ``ODS_thr``, ``ODS``, ``OIS``, ``AP``,
            ``f1_mode`` are used); every method over the same stems.
        gt_dir: folder of the masks (default: the first summary's).
        images: folder of the input photos, paired by stem (each the size
            of its map); None leaves the photo column out.
        mask_rule: GT binarisation, ``'ge128'`` or ``'nonzero'`` (as in
            the evaluation).
        pr_curve: the PR plot, relative to ``out_dir``; shown on top when
            the file exists.
        max_side: thumbnails' longest side, px (display and file; files
            are never larger than their source).
        min_area: specks of fewer px are left out of the measurements.
        title: shown in the page heading.

    Returns:
        the written page paths, the first method's (``index.html``) first.

    Raises:
        ValueError: no methods, methods over different stems, a missing
            mask / map / photo or a size mismatch (naming the file).
    """
    if not methods:
        raise ValueError('no methods to report')
    out_dir = ensure_writable_dir(out_dir, 'report folder')
    labels = [label for label, _ in methods]
    slugs = method_slugs(labels)
    stems = list(methods[0][1]['stems'])
    for label, s in methods[1:]:
        if sorted(s['stems']) != sorted(stems):
            raise ValueError(f'method {label!r} was evaluated on other '
                             f'images than {labels[0]!r}')
    gt_dir = gt_dir or methods[0][1]['gt_dir']
    gt_files = _paths(gt_dir, MASK_EXTENSIONS, stems, 'mask')
    img_files = (_paths(images, IMG_EXTENSIONS, stems, 'photo')
                 if images else {})
    pred_files = [_paths(s['pred_dir'], PRED_EXTENSIONS, stems, 'prediction')
                  for _, s in methods]
    thumbs = _Thumbs(out_dir, max_side)
    rows = [[] for _ in methods]  # per method: (ReportRow, cells)
    for stem in stems:
        gt = load_gt_mask(gt_files[stem], mask_rule).view(bool)
        shared = dict(gt=thumbs.write(
            osp.join(REPORT_DIR, 'gt', stem + '.png'),
            map_thumbnail(gt, max_side), gt.shape))
        photo = None
        if images:
            photo = read_image(img_files[stem], 'color')
            if photo.shape[:2] != gt.shape:
                raise ValueError(
                    f'{img_files[stem]} is {photo.shape[1]}x{photo.shape[0]}'
                    f' but its mask {gt_files[stem]} is '
                    f'{gt.shape[1]}x{gt.shape[0]}')
            shared['image'] = thumbs.write(
                osp.join(REPORT_DIR, 'image', stem + '.jpg'),
                photo_thumbnail(photo, max_side), gt.shape)
        for m, ((_, summary), slug) in enumerate(zip(methods, slugs)):
            path = pred_files[m][stem]
            prob = load_prob_map(path)
            if prob.shape != gt.shape:
                raise ValueError(
                    f'{path}: prediction is {prob.shape[1]}x{prob.shape[0]}'
                    f' but the mask {gt_files[stem]} is '
                    f'{gt.shape[1]}x{gt.shape[0]}')
            row, mask = report_row(stem, prob, gt, summary['ODS_thr'],
                                   min_area)
            pred_thumb = map_thumbnail(prob, max_side)
            ext = '.png' if len(np.unique(pred_thumb)) <= 2 else '.jpg'
            cells = dict(shared)
            cells['pred'] = thumbs.write(
                osp.join(REPORT_DIR, f'pred-{slug}', stem + ext), pred_thumb,
                gt.shape)
            cells['errors'] = thumbs.write(
                osp.join(REPORT_DIR, f'errors-{slug}', stem + '.png'),
                error_thumbnail(mask, gt, photo, max_side), gt.shape)
            rows[m].append((row, cells))
    names = page_names(labels)
    curve = pr_curve if pr_curve and osp.isfile(osp.join(out_dir,
                                                         pr_curve)) else None
    paths = []
    for m in range(len(methods)):
        text = _page(m, methods, rows, names, curve, bool(images), gt_dir,
                     min_area, title)
        path = osp.join(out_dir, names[m])
        atomic_write_bytes(path, text.encode('utf-8'))
        paths.append(path)
    return paths


# --------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:20px;margin:0 0 8px}
.meta{color:#555;margin:4px 0}
.meta code{font-size:12px}
table{border-collapse:collapse}
th,td{border-bottom:1px solid #ddd;padding:3px 6px;vertical-align:middle}
th{background:#f3f3f3;position:sticky;top:0;z-index:1;white-space:nowrap}
th[data-key]{cursor:pointer;user-select:none}
th[data-key]:hover{background:#e4e4e4}
th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.stem{font-family:monospace;font-size:12px;min-width:80px;max-width:160px;
word-break:break-all}
img.t{display:block;background:#000}
img.map{image-rendering:pixelated}
.methods td,.methods th{position:static}
.methods tr.current{font-weight:bold}
.sw{display:inline-block;width:12px;height:12px;vertical-align:-1px;
margin:0 4px 0 10px;border:1px solid #888}
img.pr{width:300px;height:300px;flex:none}
.top{display:flex;gap:16px;align-items:flex-start;margin-bottom:12px}
.top p{max-width:760px}
.methods{margin:8px 0}
"""

_JS = """
(function () {
  'use strict';
  var table = document.getElementById('rows');
  var body = table.tBodies[0];
  var heads = Array.prototype.slice.call(
    table.querySelectorAll('th[data-key]'));
  var state = {key: 'f1', dir: 1};
  function val(tr, key, text) {
    var v = tr.getAttribute('data-' + key);
    return text ? v : parseFloat(v);
  }
  function sortBy(key, dir, text) {
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = val(a, key, text), y = val(b, key, text);
      var nx = x !== x, ny = y !== y;  // NaN: not measured, always last
      if (nx !== ny) { return nx ? 1 : -1; }
      if (x < y) { return -dir; }
      if (x > y) { return dir; }
      var s = a.getAttribute('data-stem'), t = b.getAttribute('data-stem');
      return s < t ? -1 : (s > t ? 1 : 0);
    });
    rows.forEach(function (r) { body.appendChild(r); });
    heads.forEach(function (h) {
      h.setAttribute('aria-sort', h.getAttribute('data-key') !== key ?
        'none' : (dir > 0 ? 'ascending' : 'descending'));
    });
  }
  heads.forEach(function (th) {
    th.addEventListener('click', function () {
      var key = th.getAttribute('data-key');
      state = {key: key, dir: key === state.key ? -state.dir : 1};
      sortBy(key, state.dir, th.getAttribute('data-type') === 'text');
    });
  });
  if (!/[?&]selftest=1(&|$)/.test(location.search)) { return; }
  function order() {
    return Array.prototype.map.call(body.rows, function (r) {
      return r.getAttribute('data-stem');
    });
  }
  var imgs = Array.prototype.slice.call(document.images);
  imgs.forEach(function (i) { i.loading = 'eager'; });
  Promise.all(imgs.map(function (i) {
    return i.complete ? null : new Promise(function (done) {
      i.addEventListener('load', done);
      i.addEventListener('error', done);
    });
  })).then(function () {
    var f1 = table.querySelector('th[data-key="f1"]');
    var result = {rows: body.rows.length, images: imgs.length,
      broken: imgs.filter(function (i) { return !(i.naturalWidth > 0); })
        .map(function (i) { return i.getAttribute('src'); }),
      initial: order()};
    f1.click();
    result.first_click = order();
    result.first_click_sort = f1.getAttribute('aria-sort');
    f1.click();
    result.second_click = order();
    result.second_click_sort = f1.getAttribute('aria-sort');
    var pre = document.createElement('pre');
    pre.id = 'selftest-result';
    pre.textContent = JSON.stringify(result);
    document.body.appendChild(pre);
  });
})();
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _img(cell: Dict, alt: str, is_map: bool) -> str:
    cls = 't map' if is_map else 't'
    return (f'<img class="{cls}" src="{cell["src"]}" width="{cell["w"]}" '
            f'height="{cell["h"]}" alt="{_e(alt)}" loading="lazy" '
            'decoding="async">')


def _f(v: float, digits: int = 4) -> str:
    return f'{v:.{digits}f}'


def _page(m: int, methods, rows, names, curve, with_images: bool,
          gt_dir: str, min_area: int, title: Optional[str]) -> str:
    label, s = methods[m]
    thr = s['ODS_thr']
    several = len(methods) > 1
    others = [i for i in range(len(methods)) if i != m] if several else []
    f1_of = [{row.stem: row.f1 for row, _ in rows[i]}
             for i in range(len(methods))]
    heading = f'Crack evaluation: {title}' if title else 'Crack evaluation'
    out = ['<!doctype html>', '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width">',
           f'<title>{_e(heading)} ({_e(label)})</title>',
           f'<style>{_CSS}</style></head><body>',
           '<div class="top">']
    if curve:
        out.append(f'<img class="pr" src="{_url(curve)}" alt="PR curves">')
    out += ['<div>', f'<h1>{_e(heading)} &middot; {_e(label)}</h1>',
            f'<p class="meta">{s["n_images"]} images &middot; '
            f'f1_mode={_e(s["f1_mode"])} &middot; ODS {_f(s["ODS"])} at '
            f't={thr:g} &middot; OIS {_f(s["OIS"])} &middot; AP '
            f'{_f(s["AP"])}</p>',
            f'<p class="meta">predictions <code>{_e(s["pred_dir"])}</code>'
            f' &middot; ground truth <code>{_e(gt_dir)}</code></p>']
    if several:
        out.append('<table class="methods"><tr><th>method</th><th>ODS</th>'
                   '<th>ODS t</th><th>OIS</th><th>AP</th></tr>')
        for i, (lab, si) in enumerate(methods):
            cls = ' class="current"' if i == m else ''
            out.append(f'<tr{cls}><td><a href="{_url(names[i])}">{_e(lab)}'
                       f'</a></td><td>{_f(si["ODS"])}</td>'
                       f'<td>{si["ODS_thr"]:g}</td><td>{_f(si["OIS"])}</td>'
                       f'<td>{_f(si["AP"])}</td></tr>')
        out.append('</table>')
    swatches = ''.join(
        f'<span class="sw" style="background:rgb{ERROR_COLOURS[k]}"></span>'
        f'{name}' for k, name in (('tp', 'true positive'),
                                  ('fp', 'false positive'),
                                  ('fn', 'false negative')))
    out.append(f'<p class="meta">Errors at the ODS threshold t={thr:g}:'
               f'{swatches}. Measurements: the cracks of the prediction at '
               f't={thr:g} (components of at least {min_area} px; &mdash; '
               f'where there are more than {MAX_MEASURED_CRACKS} or they '
               f'cover more than {MAX_MEASURED_FRACTION:.0%} of the image). '
               'Click a column header to sort; F1 ascending (worst first) '
               'to start.</p></div></div>')
    heads = ['<th data-key="stem" data-type="text">image</th>']
    if with_images:
        heads.append('<th>input</th>')
    heads += ['<th>prediction</th>', '<th>ground truth</th>',
              f'<th>errors (t={thr:g})</th>',
              '<th data-key="f1" aria-sort="ascending">F1</th>',
              '<th data-key="p">P</th>', '<th data-key="r">R</th>',
              '<th data-key="cracks">cracks</th>',
              '<th data-key="length">length px</th>',
              '<th data-key="width">max width px</th>']
    heads += [f'<th data-key="f1-m{i}">F1 {_e(methods[i][0])}</th>'
              for i in others]
    out.append('<table id="rows"><thead><tr>' + ''.join(heads) +
               '</tr></thead><tbody>')
    ordered = sorted(rows[m], key=lambda rc: (rc[0].f1, rc[0].stem))
    for row, cells in ordered:
        out.append(_row(row, cells, with_images, others, f1_of))
    out.append('</tbody></table>')
    out.append(f'<script>{_JS}</script></body></html>')
    return '\n'.join(out) + '\n'


def _num(v: Optional[float], fmt) -> str:
    return '' if v is None else fmt(v)


def _measured(v: Optional[float], cracks: int) -> str:
    if v is None:
        return (f'<td class="num" title="not measured: {cracks} cracks, or '
                f'over {MAX_MEASURED_FRACTION:.0%} of the image is crack">'
                '&mdash;</td>')
    return f'<td class="num">{v:.1f}</td>'


def _row(row: ReportRow, cells: Dict, with_images: bool, others,
         f1_of) -> str:
    attrs = dict(stem=row.stem, f1=repr(row.f1), p=repr(row.precision),
                 r=repr(row.recall), cracks=row.cracks,
                 length=_num(row.total_length_px, repr),
                 width=_num(row.max_width_px, repr))
    for i in others:
        attrs[f'f1-m{i}'] = repr(f1_of[i][row.stem])
    tr = '<tr ' + ' '.join(f'data-{k}="{_e(v)}"' for k, v in attrs.items())
    tds = [f'<td class="stem">{_e(row.stem)}</td>']
    if with_images:
        tds.append(f'<td>{_img(cells["image"], "input", False)}</td>')
    tds += [f'<td>{_img(cells["pred"], "prediction", True)}</td>',
            f'<td>{_img(cells["gt"], "ground truth", True)}</td>',
            f'<td>{_img(cells["errors"], "errors", True)}</td>',
            f'<td class="num f1">{_f(row.f1)}</td>',
            f'<td class="num">{_f(row.precision)}</td>',
            f'<td class="num">{_f(row.recall)}</td>',
            f'<td class="num">{row.cracks}</td>',
            _measured(row.total_length_px, row.cracks),
            _measured(row.max_width_px, row.cracks)]
    tds += [f'<td class="num">{_f(f1_of[i][row.stem])}</td>' for i in others]
    return tr + '>' + ''.join(tds) + '</tr>'
