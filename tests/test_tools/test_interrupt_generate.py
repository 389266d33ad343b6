"""tools/generate_pseudo_labels.py (with --save-stages): two runs in fresh
processes write the same bytes, and a run SIGKILLed half way leaves only
whole files under final names and resumes to the bytes of an
uninterrupted run."""
import dataclasses
import json
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
from conftest import make_tiny_classifier, run_tool

sys.path.insert(0, osp.dirname(__file__))
from hardening_utils import kill_group, start_tool, tool_env, wait_for  # noqa: E402

TOOL = 'tools/generate_pseudo_labels.py'
N_IMAGES = 12
SIZE = 96
# soft maps (x 255, no binarisation, no keep rule): every float of the
# pipeline reaches the file, so a last-bit difference is likely to show.
# The stage figures (~0.2 s an image) also give the kill a wide window.
OPTIONS = ['--save-stages', '--cfg-options', 'output.binarize=False',
           'output.min_crack_pixels=0']


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    from mmcrack.datasets.synthetic import (
        SyntheticCrackConfig,
        write_synthetic_dataset,
    )
    tmp = tmp_path_factory.mktemp('gen_interrupt')
    cfg, ckpt = make_tiny_classifier(tmp)
    syn = dataclasses.replace(SyntheticCrackConfig(), height=SIZE,
                              width=SIZE, crack_length=(60, 120))
    write_synthetic_dataset(str(tmp / 'data'), seed=5,
                            splits=dict(train=N_IMAGES), cfg=syn)
    img_dir = str(tmp / 'data' / 'images' / 'train')
    reference = str(tmp / 'reference')
    run_tool([TOOL, cfg, ckpt, img_dir, reference] + OPTIONS,
             env=tool_env())
    return cfg, ckpt, img_dir, reference


def _labels(out_dir, sub=''):
    """{name: bytes} of the final-name PNGs (temporary files excluded) of
    ``out_dir`` (labels) or ``out_dir/stages`` (``sub='stages'``)."""
    out = {}
    folder = osp.join(out_dir, sub)
    for name in sorted(os.listdir(folder) if osp.isdir(folder) else []):
        if name.endswith('.png') and not name.startswith('.'):
            with open(osp.join(folder, name), 'rb') as f:
                out[name] = f.read()
    return out


def _temps(out_dir):
    return [n for sub in ('', 'stages')
            for n in os.listdir(osp.join(out_dir, sub))
            if n.startswith('.tmp-')]


def _summary(out_dir):
    with open(osp.join(out_dir, 'summary.json')) as f:
        s = json.load(f)
    return {k: s[k] for k in ('images', 'kept', 'dropped', 'failed',
                              'settings')}


def test_reference_is_not_trivial(setup):
    *_, reference = setup
    labels = _labels(reference)
    assert len(labels) == N_IMAGES
    assert len(_labels(reference, 'stages')) == N_IMAGES
    maps = [cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_UNCHANGED)
            for b in labels.values()]
    # soft values, not only 0: the comparisons below compare real content
    assert sum(int((m > 0).sum()) for m in maps) > 0
    assert len(np.unique(np.concatenate([m.ravel() for m in maps]))) > 2


def test_two_fresh_processes_write_identical_bytes(setup, tmp_path):
    cfg, ckpt, img_dir, reference = setup
    again = str(tmp_path / 'again')
    run_tool([TOOL, cfg, ckpt, img_dir, again] + OPTIONS, env=tool_env())
    assert _labels(again) == _labels(reference)
    assert _labels(again, 'stages') == _labels(reference, 'stages')
    assert _summary(again) == _summary(reference)


def test_sigkill_leaves_whole_files_and_resume_is_bit_identical(
        setup, tmp_path):
    cfg, ckpt, img_dir, reference = setup
    out = str(tmp_path / 'out')
    log = str(tmp_path / 'killed.log')
    proc = start_tool([TOOL, cfg, ckpt, img_dir, out] + OPTIONS, log)
    wait_for(lambda: osp.isdir(out) and len(_labels(out)) >= 2, proc, log)
    kill_group(proc)
    assert proc.returncode == -9

    # killed half way: some labels, not all, and no summary yet (the
    # labels' key, written before the first label, is whole JSON)
    stems = {osp.splitext(n)[0] for n in os.listdir(img_dir)}
    finals = {n for n in os.listdir(out) if not n.startswith('.tmp-')}
    assert finals <= ({s + '.png' for s in stems}
                      | {'stages', 'labels_key.json'}), finals
    if 'labels_key.json' in finals:
        with open(osp.join(out, 'labels_key.json')) as f:
            assert isinstance(json.load(f), dict)
    labels, stages = _labels(out), _labels(out, 'stages')
    assert 2 <= len(labels) < N_IMAGES
    assert set(stages) <= {s + '.png' for s in stems}
    # every file under a final name is whole: it decodes, at full size,
    # and is byte for byte what the uninterrupted run wrote
    ref, ref_stages = _labels(reference), _labels(reference, 'stages')
    for name, data in labels.items():
        img = cv2.imdecode(np.frombuffer(data, np.uint8),
                           cv2.IMREAD_UNCHANGED)
        assert img is not None and img.shape == (SIZE, SIZE), name
        assert data == ref[name], name
    for name, data in stages.items():
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert img is not None and img.ndim == 3, name
        assert data == ref_stages[name], name

    # what a kill between write and rename leaves: a partial temp file of
    # the dead process (its pid in the name); the rerun removes it
    stem = sorted(stems)[-1]
    stale = osp.join(out, f'.tmp-{proc.pid}-abc123{stem}.png')
    with open(stale, 'wb') as f:
        f.write(ref[stem + '.png'][:50])

    rerun = run_tool([TOOL, cfg, ckpt, img_dir, out] + OPTIONS,
                     env=tool_env())
    assert f'generated {N_IMAGES - len(labels)} in' in rerun.stdout
    assert _labels(out) == ref
    assert _labels(out, 'stages') == ref_stages
    assert _temps(out) == []
    summary = _summary(out)
    assert summary == _summary(reference)
