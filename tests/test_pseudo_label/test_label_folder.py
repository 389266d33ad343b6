"""mmcrack.pseudo_label.label_folder: the key stamp of a labels folder and
the check that another run's labels came from a given checkpoint."""
import pytest

from mmcrack.pseudo_label.label_folder import folder_stamp, labels_made_with


def test_labels_made_with_follows_the_checkpoint_path_and_bytes(tmp_path):
    ckpt, other = tmp_path / 'epoch_4.pth', tmp_path / 'epoch_5.pth'
    ckpt.write_bytes(b'weights')
    other.write_bytes(b'weights')
    labels = tmp_path / 'labels'
    labels.mkdir()
    assert not labels_made_with(str(labels), str(ckpt))  # no stamp yet
    folder_stamp(str(labels), str(ckpt), dict(preset='paper'))
    assert labels_made_with(str(labels), str(ckpt))
    # same bytes, another file: not the same run's checkpoint
    assert not labels_made_with(str(labels), str(other))
    # the checkpoint was retrained in place: its labels are stale
    ckpt.write_bytes(b'retrained')
    assert not labels_made_with(str(labels), str(ckpt))
    ckpt.unlink()
    assert not labels_made_with(str(labels), str(ckpt))


def test_a_folder_refuses_labels_of_other_settings(tmp_path):
    ckpt = tmp_path / 'c.pth'
    ckpt.write_bytes(b'w')
    labels = tmp_path / 'labels'
    labels.mkdir()
    folder_stamp(str(labels), str(ckpt), dict(a=1))
    (labels / 'x.png').write_bytes(b'png')
    with pytest.raises(FileExistsError, match='another classifier'):
        folder_stamp(str(labels), str(ckpt), dict(a=2))
    assert (labels / 'x.png').exists()
    folder_stamp(str(labels), str(ckpt), dict(a=2), overwrite=True)
    assert not (labels / 'x.png').exists()
