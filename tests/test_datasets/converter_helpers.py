"""Small synthetic files for the dataset converter tests."""
import json
import os
import os.path as osp

import cv2
import numpy as np


def tool(name):
    """The module of tools/dataset_converters/<name>.py (for main(argv))."""
    from conftest import load_tool
    return load_tool(f'tools/dataset_converters/{name}.py')


def image(h, w, seed):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), np.uint8)


def write(path, arr):
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(str(path), arr)
    return str(path)


def read_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


def read_png(path):
    assert osp.splitext(path)[1] == '.png'
    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert arr is not None and arr.ndim == 2 and arr.dtype == np.uint8
    return arr


def listing(root):
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, files in os.walk(root)
        for f in files)


def summary_of(out):
    with open(osp.join(out, 'conversion.json')) as f:
        return json.load(f)


def crack(h, w, rows, cols):
    """uint8 (h, w) 0/255 mask with crack at rows x cols."""
    mask = np.zeros((h, w), np.uint8)
    mask[np.ix_(rows, cols)] = 255
    return mask
