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


def _write(results, argv, done, reference=None):
    args = comparison_tables.parse_args(['--results', str(results)] + argv)
    comparison_tables.write(args, done, '/x/epoch_4.pth', 180.0, _Runner(),
                            reference)
    return results.read_text()


def _section(text, name):
    return text.split(f'<!-- section: {name} -->')[1].split(
        f'<!-- end: {name} -->')[0]


def _tables():
    table2 = {'EfficientNet-Lite0 (ImageNet)':
              dict(_m(0.679, 0.8), checkpoint='/x/epoch_4.pth'),
              'ResNet-18-w32 (scratch)':
              dict(_m(0.5), checkpoint='/y/epoch_1.pth')}
    table4 = {preset: {'test': _m(0.6 + i / 100)}
              for i, preset in enumerate(comparison_tables.ABLATIONS)}
    crf = {'train': _m(0.5), 'test': _m(0.45)}
    report = {'test': {'WSV': _m(0.765), 'darkness': _m(0.605)}}
    return {'II': table2, 'IV': table4,
            'V-VI': (table4['paper']['test'], crf,
                     {'WSV on CRF labels': _m(0.596)}, report)}


def test_each_table_in_its_own_section(tmp_path):
    results = tmp_path / 'RESULTS.md'
    results.write_text('# Results\n\nkept text\n')
    text = _write(results, ['--ablation-splits', 'test'], _tables())
    assert text.startswith('# Results\n\nkept text\n')
    two = _section(text, 'comparisons_table2')
    assert '| EfficientNet-Lite0 (ImageNet) | `epoch_4.pth` | 0.679 / ' \
        '0.689 / 0.579 | 0.80 |' in two
    # no images/s recorded: a dash, not a number
    assert '| ResNet-18-w32 (scratch) | `epoch_1.pth` | 0.500 / 0.510 / ' \
        '0.400 | – |' in two
    # stage times of this table's stages only (_Runner: 'a', 'b')
    assert '3.0 min for this invocation; the stage times of this table: ' \
        '0.0 min' in two
    four = _section(text, 'comparisons_table4')
    # one column per labelled split: test only
    assert '| preset | what | test images |' in four
    assert 'training images' not in four
    assert '| `ablation_otsu2` | 2-class Otsu in the windows | 0.630 / ' \
        '0.640 / 0.530 |' in four
    six = _section(text, 'comparisons_table5_6')
    assert '| paper\'s labels alone | 0.600 / 0.610 / 0.500 |' in six
    assert '| CRF labels alone (grid-searched) | 0.450 / 0.460 / 0.350 |' \
        in six
    assert '| WSV on CRF labels | 0.596 / 0.606 / 0.496 |' in six
    assert '| darkness floor | 0.605 / 0.615 / 0.505 |' in six


def test_a_subset_run_keeps_the_other_tables(tmp_path):
    results = tmp_path / 'RESULTS.md'
    tables = _tables()
    _write(results, ['--ablation-splits', 'test'], tables)
    before = results.read_text()
    tables['II']['ResNet-18-w32 (scratch)'] = dict(
        _m(0.55, 0.5), checkpoint='/y/epoch_1.pth')
    text = _write(results, ['--tables', 'II'], {'II': tables['II']})
    for name in ('comparisons_table4', 'comparisons_table5_6'):
        assert _section(text, name) == _section(before, name)
    assert '0.550 / 0.560 / 0.450 | 0.50 |' in _section(
        text, 'comparisons_table2')
    assert '--tables II' in _section(text, 'comparisons_table2')


def test_tables_argument():
    assert comparison_tables.parse_args([]).tables == ['II', 'IV', 'V-VI']
    assert comparison_tables.parse_args(['--tables', 'II']).tables == ['II']


def test_affinity_walk_rows_are_named_as_partial(tmp_path):
    done = _tables()
    paper, crf, wsv, report = done['V-VI']
    crf = dict(crf, **{'walk train': _m(0.31), 'walk test': _m(0.32)})
    text = _write(tmp_path / 'R.md', ['--tables', 'V-VI'],
                  {'V-VI': (paper, crf, wsv, report)})
    rows = [line for line in _section(text, 'comparisons_table5_6')
            .splitlines() if line.startswith('| ')]
    assert rows[3] == ('| CAM + affinity walk + CRF labels alone (partial '
                       'CRF+RW, not that method) | 0.320 / 0.330 / 0.220 |')
    assert 'on the training images: 0.310 / 0.320 / 0.210' in text
    # without the flag's rows, no walk row
    plain = _write(tmp_path / 'P.md', ['--tables', 'V-VI'],
                   {'V-VI': done['V-VI']})
    assert 'affinity walk' not in plain


def test_labels_from_the_localization_cache_have_no_speed(tmp_path):
    import json
    out = tmp_path / 'run'
    (out / 'labels').mkdir(parents=True)
    (out / 'eval').mkdir()
    summary = dict(generated=10, seconds=5.0)
    (out / 'eval' / 'metrics.json').write_text(json.dumps(dict(
        methods={'labels only': dict(ODS=0.5, OIS=0.5, AP=0.4)})))
    for hits, want in ((0, 2.0), (3, None)):
        (out / 'labels' / 'summary.json').write_text(json.dumps(dict(
            summary, localization_cache=dict(hits=hits, misses=10 - hits))))
        assert comparison_tables.labels_metrics(str(out))[
            'images_per_s'] == want


IV_ONLY = ['--tables', 'IV', '--ablation-splits', 'test']


def test_time_budget_counts_the_reference_once(tmp_path):
    import json

    from mmcrack.apis.pipeline import StageRunner

    # a finished paper_tables.py run: its pipeline's report (with a stage
    # nested inside another) and its own labelling stages
    ref = tmp_path / 'paper'
    (ref / 'pipeline').mkdir(parents=True)
    (ref / 'pipeline' / 'report.json').write_text(json.dumps(dict(
        seconds={'classifier': 600.0, 'wsv': 1200.0,
                 'pseudo_labels (inside wsv)': 300.0})))
    runner = StageRunner(str(ref), name='paper_tables')
    for stage, seconds in (('pipeline', 1800.0),
                           ('labels_test (paper)', 300.0)):
        runner._update_state(stage, dict(seconds=seconds, commands=[]))
    reference = comparison_tables.protocol_seconds(str(ref))
    # the pipeline stage is its inner stages, counted once
    assert reference == {'classifier': 600.0, 'wsv': 1200.0,
                         'pseudo_labels (inside wsv)': 300.0,
                         'labels_test (paper)': 300.0}
    # reference 35 min + comparisons 3 min (_Runner)
    text = _write(tmp_path / 'R.md', IV_ONLY, {'IV': _tables()['IV']},
                  reference)
    assert '**Time budget**: the reference run (paper_tables.py) 35.0 min ' \
        '+ every comparison stage recorded in this output folder 3.0 min ' \
        '= 38.0 min of stage time (target ≤ 180 min' in text
    assert ': met;' in text
    over = {'classifier': 180 * 60.0}
    assert ': not met;' in _write(tmp_path / 'O.md', IV_ONLY,
                                  {'IV': _tables()['IV']}, over)
    # no reference run known: no budget line
    assert 'Time budget' not in _write(tmp_path / 'N.md', IV_ONLY,
                                       {'IV': _tables()['IV']})


def test_the_localization_cache_goes_only_to_generators_that_keep_it(
        tmp_path):
    import json

    class Recorder:

        def run(self, stage, commands, done, **key):
            self.generate = commands[0]
            evaluation = tmp_path / 'out' / 'eval'
            evaluation.mkdir(parents=True, exist_ok=True)
            (evaluation / 'metrics.json').write_text(json.dumps(dict(
                methods={'labels only': dict(ODS=0.5, OIS=0.5, AP=0.4)})))

    runner = Recorder()
    for preset, cached in (('paper', True), ('ablation_otsu2', True),
                           ('crf', False), ('affinity_walk', False)):
        out = str(tmp_path / 'out')
        comparison_tables.score_labels_only(
            runner, 's', 'c.py', __file__, str(tmp_path), out, 'cpu', preset,
            'train', str(tmp_path / 'cache'))
        assert ('--localization-cache' in runner.generate) == cached, preset
