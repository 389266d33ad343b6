"""Crack measurements for inspection: length, width, area, orientation and
branching of each crack (:mod:`.crack_measurement`; components in
:mod:`.crack_components`, geometry in :mod:`.crack_geometry`), overlays
(:mod:`.overlay`) and whole folders of masks (:mod:`.folder_measure`).
Definitions: ``docs/measurement.md``."""
from .crack_components import binarize, fill_small_holes, group_components
from .crack_geometry import orientation_class
from .crack_measurement import (
    CSV_COLUMNS,
    MM_COLUMNS,
    ORIENTATIONS,
    Crack,
    CrackMap,
    measure_cracks,
)
from .folder_measure import (
    MAP_EXTENSIONS,
    check_measure_options,
    load_map,
    measure_folder,
    summarize,
)
from .overlay import draw_cracks
from .skeleton_graph import skeleton_graph, step_length

__all__ = [
    'CSV_COLUMNS', 'MM_COLUMNS', 'ORIENTATIONS', 'Crack', 'CrackMap',
    'binarize', 'fill_small_holes', 'group_components', 'measure_cracks',
    'orientation_class', 'MAP_EXTENSIONS', 'check_measure_options',
    'load_map', 'measure_folder', 'summarize', 'draw_cracks',
    'skeleton_graph', 'step_length'
]
