"""2-process (gloo, CPU) evaluation gives the same numbers as 1 process."""
import json
import os.path as osp
import socket

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.dist

N_IMAGES = 7  # odd: DefaultSampler pads rank 1 with a duplicate


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _samples():
    from test_crack_metric import make_samples
    samples, _ = make_samples(seed=3, n=N_IMAGES, channels=1, ignore=True)
    return samples


def _worker(rank, world_size, port, out_dir):
    import torch.distributed as dist

    from mmcrack.evaluation import CrackMetric
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                            rank=rank, world_size=world_size)
    try:
        samples = _samples()
        # DefaultSampler(shuffle=False): rank-strided, padded to equal size
        per_rank = -(-len(samples) // world_size)
        idx = list(range(len(samples)))
        idx += idx[:per_rank * world_size - len(idx)]
        shard = [samples[i] for i in idx[rank::world_size]]
        results = {}
        for device in ('cpu', 'gpu'):  # tmp-dir pickles / all_gather_object
            kw = dict(collect_dir=osp.join(out_dir, 'collect')) \
                if device == 'cpu' else {}
            metric = CrackMetric(f1_mode='mean', collect_device=device, **kw)
            for s in range(0, len(shard), 2):
                metric.process(None, shard[s:s + 2])
            results[device] = metric.evaluate(len(samples))
        with open(osp.join(out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(results, f)
    finally:
        dist.destroy_process_group()


def test_two_gloo_ranks_equal_one_process(tmp_path):
    from mmcrack.evaluation import CrackMetric
    single = CrackMetric(f1_mode='mean')
    samples = _samples()
    single.process(None, samples)
    ref = single.evaluate(len(samples))

    torch.multiprocessing.spawn(_worker, args=(2, _free_port(),
                                               str(tmp_path)),
                                nprocs=2, join=True)
    for rank in range(2):
        got = json.loads((tmp_path / f'rank{rank}.json').read_text())
        for device in ('cpu', 'gpu'):
            res = got[device]
            assert set(res) == set(ref)
            for key in ('ODS', 'OIS', 'AP', 'ODS_thr'):
                assert res[key] == ref[key], (rank, device, key)
            np.testing.assert_array_equal(res['precision'],
                                          ref['precision'])
            np.testing.assert_array_equal(res['recall'], ref['recall'])
