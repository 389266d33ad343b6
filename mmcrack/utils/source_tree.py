"""Folders of the source checkout that mmcrack runs from.

mmcrack is installed from its checkout (``make install`` runs
``pip install -e .``): the pipelines run ``tools/*.py`` in it and the
pseudo-label presets are read from its ``configs/`` folder.
"""
import os.path as osp

#: the repository root (``tools/``, ``configs/`` and ``mmcrack/`` inside)
SOURCE_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: the configs folder of the checkout
CONFIG_DIR = osp.join(SOURCE_ROOT, 'configs')
