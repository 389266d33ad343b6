from .file_io import (
                      atomic_write_bytes,
                      atomic_write_image,
                      atomic_write_json,
                      pair_by_stem,
                      read_image,
                      read_split_file,
)

__all__ = [
    'atomic_write_bytes', 'atomic_write_image', 'atomic_write_json',
    'pair_by_stem', 'read_image', 'read_split_file'
]
