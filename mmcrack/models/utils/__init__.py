from .guided_filter import box_mean, guided_filter

__all__ = ['box_mean', 'guided_filter']
