"""Check that the pinned OpenMMLab stack is installed, with readable errors."""
from importlib import metadata

from packaging.version import Version

# package -> (minimum inclusive, maximum exclusive, what to do)
REQUIRED = {
    'mmcv': ('2.1.0', '2.2.0'),
    'mmengine': ('0.10.0', '0.11.0'),
    'mmsegmentation': ('1.2.2', '1.3.0'),
    'mmpretrain': ('1.2.0', '1.3.0'),
}
HINT = 'run `make install` (see README, "Install")'


def check_dependencies(required: dict = REQUIRED) -> None:
    """Raise ImportError naming every missing or out-of-range package."""
    problems = []
    for name, (low, high) in required.items():
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f'{name} is not installed (need >={low},<{high})')
            continue
        if not Version(low) <= Version(found) < Version(high):
            problems.append(f'{name} {found} is installed, mmcrack needs '
                            f'>={low},<{high}')
    if problems:
        raise ImportError('mmcrack: incompatible environment:\n  - ' +
                          '\n  - '.join(problems) + f'\n{HINT}')
    try:
        import mmcv.ops  # noqa: F401
    except ImportError as e:
        raise ImportError(
            'mmcrack: mmcv is installed without its compiled ops '
            f'({e}); mmsegmentation imports mmcv.ops. Uninstall it '
            f'(and mmcv-lite) and {HINT}') from e
