"""Loading crack masks as 0/1 labels."""
from mmcv.transforms import BaseTransform

from mmcrack.registry import TRANSFORMS
from mmcrack.utils.file_io import read_image

from ..mask_utils import binarize_mask


@TRANSFORMS.register_module()
class LoadCrackAnnotations(BaseTransform):
    """Load a crack mask and binarise it to 0/1 (the one place this happens).

    Required keys: ``seg_map_path``; optional ``mask_rule`` (set by
    ``CrackSegDataset``; else ``default_rule``), ``ori_shape`` (checked).

    Added keys: ``gt_seg_map`` — uint8 (H, W) in {0, 1}; ``seg_fields``.

    Args:
        default_rule (str): binarisation rule when the sample has none.
    """

    def __init__(self, default_rule: str = 'ge128'):
        self.default_rule = default_rule

    def transform(self, results: dict) -> dict:
        path = results.get('seg_map_path')
        if path is None:
            raise ValueError(
                f'{results.get("img_path")}: no mask. The dataset was built '
                'with allow_missing_masks=True (weakly-supervised config?) '
                'but nothing supplied masks: add PseudoLabelHook to '
                'custom_hooks, or give the dataset a mask folder')
        mask = read_image(path, 'unchanged')
        try:
            label = binarize_mask(mask,
                                  results.get('mask_rule', self.default_rule))
        except ValueError as e:
            raise ValueError(f'{path}: {e}') from e
        shape = results.get('ori_shape')
        if shape is not None and tuple(shape[:2]) != label.shape:
            raise ValueError(
                f'size mismatch: mask {path} is {label.shape[1]}x'
                f'{label.shape[0]} (WxH) but image {results.get("img_path")} '
                f'is {shape[1]}x{shape[0]}')
        results['gt_seg_map'] = label
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(default_rule={self.default_rule!r})'


