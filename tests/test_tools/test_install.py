"""The installed stack: compiled mmcv ops, pinned versions, readable errors."""
import pytest


def test_stack_imports_with_compiled_ops():
    import mmcv
    import mmengine
    import mmpretrain
    import mmseg
    import torch
    import torchvision
    from mmcv.ops import point_sample

    assert mmcv.__version__ == '2.1.0'
    assert mmengine.__version__ == '0.10.7'
    assert mmseg.__version__ == '1.2.2'
    assert mmpretrain.__version__ == '1.2.0'
    assert torch.__version__.startswith('2.14.1')
    assert torchvision.__version__.startswith('0.29.1')
    # the compiled op really runs
    feats = torch.arange(16.).reshape(1, 1, 4, 4)
    out = point_sample(feats, torch.tensor([[[0.125, 0.125]]]),
                       align_corners=False)
    assert out.item() == pytest.approx(0.0)


def test_pkg_resources_available_for_mmengine_bases():
    import pkg_resources  # noqa: F401  (mmengine needs it for mmseg:: bases)
    from conftest import REPO
    from mmengine.config import Config
    cfg = Config.fromfile(
        f'{REPO}/configs/unet/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256.py')
    assert cfg.model.backbone.type == 'UNet'


def test_version_check_names_the_problem():
    from mmcrack.utils.version_check import check_dependencies
    with pytest.raises(ImportError) as info:
        check_dependencies({
            'mmcv': ('9.0.0', '10.0.0'),
            'no-such-package-xyz': ('1.0', '2.0')
        })
    msg = str(info.value)
    assert 'mmcv 2.1.0 is installed, mmcrack needs >=9.0.0,<10.0.0' in msg
    assert 'no-such-package-xyz is not installed' in msg
    assert 'make install' in msg
    check_dependencies()  # the real pins pass


def test_registration_reaches_both_scopes():
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODEL_WRAPPERS as CLS_WRAPPERS
    from mmpretrain.registry import TRANSFORMS as CLS_TRANSFORMS
    from mmseg.registry import DATASETS, MODEL_WRAPPERS, TRANSFORMS

    import mmcrack  # noqa: F401

    assert DATASETS.get('CrackSegDataset') is not None
    for scope, wrappers, transforms in (('mmseg', MODEL_WRAPPERS, TRANSFORMS),
                                        ('mmpretrain', CLS_WRAPPERS,
                                         CLS_TRANSFORMS)):
        with DefaultScope.overwrite_default_scope(scope):
            assert wrappers.get('CPUAwareDistributedDataParallel') is not None
            assert transforms.get('LoadCrackAnnotations') is not None
