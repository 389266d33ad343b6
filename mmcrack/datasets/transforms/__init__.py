from .loading import LoadCrackAnnotations

__all__ = ['LoadCrackAnnotations']
