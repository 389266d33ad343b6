# Runtime shared by mmcrack's segmentation configs (mmseg scope).
default_scope = 'mmseg'
# Loads mmcrack, which registers its modules into mmseg/mmpretrain/mmengine
# registries (see mmcrack/registry.py).
custom_imports = dict(imports=['mmcrack'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py uses gloo instead when CUDA is absent.
    dist_cfg=dict(backend='nccl'),
)
# Like MMDistributedDataParallel on CUDA; on CPU drops device_ids and reverts
# SyncBN (mmcrack/engine/distributed.py). Only used with --launcher pytorch.
model_wrapper_cfg = dict(type='CPUAwareDistributedDataParallel')
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
