from .color import RandomHue, shift_hue
from .loading import LoadCrackAnnotations
from .noise import (
                    GaussianNoise,
                    MultiplicativeNoise,
                    gaussian_noise,
                    multiplicative_noise,
)
from .patch_loading import LoadCrackPatch, dihedral

__all__ = [
    'RandomHue', 'shift_hue', 'LoadCrackAnnotations', 'GaussianNoise',
    'MultiplicativeNoise',
    'gaussian_noise', 'multiplicative_noise', 'LoadCrackPatch', 'dihedral'
]
