"""Pictures and pages for looking at results: the evaluation report
(:mod:`.html_report`: one row per image, worst first), its per-image
numbers (:mod:`.report_rows`) and its thumbnails and TP / FP / FN overlays
(:mod:`.thumbnails`). Description: ``docs/report.md``."""
from .html_report import (
    REPORT_DIR,
    method_slugs,
    page_names,
    write_html_report,
)
from .report_rows import (
    MAX_MEASURED_CRACKS,
    MAX_MEASURED_FRACTION,
    MIN_AREA_PX,
    ReportRow,
    drop_specks,
    measure_prediction,
    report_row,
    threshold_map,
)
from .thumbnails import (
    ERROR_COLOURS,
    block_max,
    error_overlay,
    error_thumbnail,
    map_thumbnail,
    photo_thumbnail,
    thumbnail_shape,
    write_thumbnail,
)

__all__ = [
    'REPORT_DIR', 'method_slugs', 'page_names', 'write_html_report',
    'MIN_AREA_PX', 'MAX_MEASURED_CRACKS', 'MAX_MEASURED_FRACTION',
    'ReportRow', 'drop_specks', 'measure_prediction',
    'report_row', 'threshold_map', 'ERROR_COLOURS', 'block_max',
    'error_overlay', 'error_thumbnail', 'map_thumbnail', 'photo_thumbnail',
    'thumbnail_shape', 'write_thumbnail'
]
