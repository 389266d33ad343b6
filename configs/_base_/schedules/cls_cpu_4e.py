# CPU classifier schedule: Adam lr 1e-3, 4 epochs, the learning rate x0.1
# for the last one (batch 16 in the dataset config). Fewer, larger steps
# than the paper's SGD schedule (cls_3e.py) for a CPU budget.
_base_ = ['./cls_3e.py']
optim_wrapper = dict(optimizer=dict(_delete_=True, type='Adam', lr=1e-3))
train_cfg = dict(max_epochs=4)
param_scheduler = dict(step_size=3)
