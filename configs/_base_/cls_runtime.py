# Runtime shared by mmcrack's crack-patch classifier configs (mmpretrain scope).
default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmcrack'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),  # gloo on CPU (tools/train.py)
)
model_wrapper_cfg = dict(type='CPUAwareDistributedDataParallel')
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
