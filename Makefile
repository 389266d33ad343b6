# mmcrack — `make install`, `make test`, `make demo` each work alone on a fresh
# machine: the test and demo targets run the (idempotent) install first.
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_CONFIG ?= configs/unet/unet-s5-d16_fcn_1xb4-400i_synthetic-256x256.py
DEMO_WORK_DIR ?= work_dirs/demo

.PHONY: install test demo clean

install:
	VENV=$(VENV) bash tools/install.sh

test: install
	$(PY) -m pytest tests

# The main job. Until the end-to-end pipeline lands this generates the
# synthetic set and trains + evaluates the U-Net demo on CPU (a few minutes).
demo: install
	$(PY) tools/dataset_converters/make_synthetic.py data/synthetic
	$(PY) tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_WORK_DIR)
	$(PY) tools/test.py $(DEMO_CONFIG) $(DEMO_WORK_DIR)/iter_400.pth --work-dir $(DEMO_WORK_DIR)

clean:
	rm -rf work_dirs data/synthetic .pytest_cache
