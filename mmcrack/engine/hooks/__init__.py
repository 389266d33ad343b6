from .channels_last_hook import ChannelsLastHook
from .pseudo_label_hook import PseudoLabelHook
from .rng_state_hook import RNGStateHook

__all__ = ['ChannelsLastHook', 'PseudoLabelHook', 'RNGStateHook']
