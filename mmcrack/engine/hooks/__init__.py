from .pseudo_label_hook import PseudoLabelHook
from .rng_state_hook import RNGStateHook

__all__ = ['PseudoLabelHook', 'RNGStateHook']
