from .crack_inferencer import CrackInferencer, threshold_from_checkpoint
from .tiled_prediction import TileGrid, predict_tiled, predict_tiled_maps

__all__ = [
    'CrackInferencer', 'threshold_from_checkpoint', 'TileGrid',
    'predict_tiled', 'predict_tiled_maps'
]
