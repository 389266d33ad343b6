"""benchmarks/comparison_tables.py: the RESULTS.md section it writes from
finished stages (the runs themselves are hours of benchmark, not tests)."""
import os.path as osp
import sys

from conftest import REPO

sys.path.insert(0, osp.join(REPO, 'benchmarks'))
import comparison_tables  # noqa: E402


class _Runner:

    def seconds(self):
        return {'a': 60.0, 'b': 120.0}


def _m(ods, rate=None):
    return dict(ODS=ods, OIS=ods + 0.01, AP=ods - 0.1, images_per_s=rate)


def test_section_with_test_only_ablations(tmp_path):
    results = tmp_path / 'RESULTS.md'
    results.write_text('# Results\n\nkept text\n')
    args = comparison_tables.parse_args(
        ['--results', str(results), '--ablation-splits', 'test',
         '--skip-scratch', '--skip-semi', '--skip-crf-wsv'])
    table2 = {'EfficientNet-Lite0 (ImageNet)': _m(0.679, 0.8)}
    table4 = {preset: {'test': _m(0.6 + i / 100)}
              for i, preset in enumerate(comparison_tables.ABLATIONS)}
    crf = {'train': _m(0.5), 'test': _m(0.45)}
    report = {'test': {'WSV': _m(0.765), 'darkness': _m(0.605)}}
    comparison_tables.write(args, table2, table4, crf, {}, report, 180.0,
                            _Runner())
    text = results.read_text()
    assert text.startswith('# Results\n\nkept text\n')
    assert '<!-- section: comparisons -->' in text
    # one column per labelled split: test only
    assert '| preset | what | test images |' in text
    assert 'training images |' not in text.split('Table IV')[1].split(
        '###')[0]
    assert '| `ablation_otsu2` | 2-class Otsu in the windows | 0.630 / ' \
        '0.640 / 0.530 |' in text
    assert '| paper\'s labels alone | 0.600 / 0.610 / 0.500 |' in text
    assert '| CRF labels alone (grid-searched) | 0.450 / 0.460 / 0.350 |' \
        in text
    assert '| EfficientNet-Lite0 (ImageNet) | 0.679 / 0.689 / 0.579 | ' \
        '0.80 |' in text
    assert '3.0 min for this invocation; stage times: 3.0 min' in text
