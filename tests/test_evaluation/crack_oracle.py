"""Obvious, slow reference implementations used as test oracles.

Deliberately written as plain loops over thresholds and images with Python
floats, sharing no code with ``mmcrack.evaluation``.
"""
import numpy as np


def oracle_counts(prob, gt, thresholds, ignore=None):
    """Loop over thresholds: binarise (float64 ``p >= t``), count."""
    prob = np.asarray(prob)
    p = prob.astype(np.float64)
    if prob.dtype == np.uint8:
        p = p / 255.0
    g = np.asarray(gt).astype(bool)
    valid = np.ones(g.shape, bool) if ignore is None else ~np.asarray(ignore)
    rows = []
    for t in thresholds:
        pred = p >= t
        tp = int(np.sum(pred & g & valid))
        fp = int(np.sum(pred & ~g & valid))
        fn = int(np.sum(~pred & g & valid))
        rows.append((tp, fp, fn))
    return np.array(rows, dtype=np.int64)


def oracle_prf(tp, fp, fn):
    tp, fp, fn = int(tp), int(fp), int(fn)
    p = 1.0 if tp + fp == 0 else tp / (tp + fp)
    r = 1.0 if tp + fn == 0 else tp / (tp + fn)
    f = 0.0 if p + r == 0 else 2 * p * r / (p + r)
    return p, r, f


def oracle_summary(counts_list, thresholds, f1_mode='mean'):
    """ODS / OIS / AP / ODS_thr by loops over images and thresholds."""
    n, K = len(counts_list), len(thresholds)
    f_img = [[oracle_prf(*counts_list[i][k])[2] for k in range(K)]
             for i in range(n)]
    pooled = [[sum(int(counts_list[i][k][j]) for i in range(n))
               for j in range(3)] for k in range(K)]
    pr = [oracle_prf(*pooled[k]) for k in range(K)]
    if f1_mode == 'mean':
        curve = [sum(f_img[i][k] for i in range(n)) / n for k in range(K)]
        ois = sum(max(f_img[i]) for i in range(n)) / n
    else:
        curve = [pr[k][2] for k in range(K)]
        tot = [0, 0, 0]
        for i in range(n):
            best = max(range(K), key=lambda k: (f_img[i][k], -k))
            for j in range(3):
                tot[j] += int(counts_list[i][best][j])
        ois = oracle_prf(*tot)[2]
    best_k = max(range(K), key=lambda k: (curve[k], -k))
    ap = 0.0
    for k in range(K):
        r_next = pr[k + 1][1] if k + 1 < K else 0.0
        ap += (pr[k][1] - r_next) * pr[k][0]
    return dict(ODS=curve[best_k], OIS=ois, AP=ap,
                ODS_thr=float(thresholds[best_k]),
                precision=[x[0] for x in pr], recall=[x[1] for x in pr])
