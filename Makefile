# mmcrack — `make install`, `make test`, `make demo` each work alone on a fresh
# machine: the test and demo targets run the (idempotent) install first.
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_OUT ?= work_dirs/demo

.PHONY: install test demo demo-folders clean

install:
	VENV=$(VENV) bash tools/install.sh

test: install
	$(PY) -m pytest tests

# The main job: synthetic set -> patch classifier -> pseudo-labels -> WSV
# U-Net -> evaluated report in $(DEMO_OUT)/report.md (CPU; resumable).
demo: install
	$(PY) tools/run_pipeline.py --out $(DEMO_OUT)

# The same without any training mask: the synthetic set as crack / no-crack
# class folders + unlabelled photos (tools/run_pipeline.py --classification).
demo-folders: install
	$(PY) tools/run_pipeline.py --classification --out $(DEMO_OUT)-folders

clean:
	rm -rf work_dirs data/synthetic .pytest_cache
