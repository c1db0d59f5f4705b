# `make demo` and `make test` are the contract: both set up .venv/ when needed.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: install test demo clean-venv

install: $(STAMP)

# Idempotent: re-runs only when the pins or the package metadata change; the
# mmcv-full wheel built on the first run is reused from pip's wheel cache.
$(STAMP): requirements.txt setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=23" wheel ninja
	$(PIP) install -q "torch===2.13.0" "torchvision==0.28.0" "numpy<2"
	# mmcv-full 1.7.2's setup.py imports pkg_resources, gone from the setuptools
	# torch 2.13 needs; build with an old one, then restore torch's pin.
	$(PIP) install -q "setuptools<70"
	MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=2 $(PIP) install --no-build-isolation "mmcv-full==1.7.2" "numpy<2" "opencv-python>=4.5,<4.12"
	$(PIP) install -q "setuptools>=77.0.3"
	$(PIP) install -q -r requirements.txt
	# MTCNN, the default face detector, with its weights inside the wheel; its
	# pins (torch<2.3, torchvision<0.18, Pillow<10.3) predate our stack, so no
	# deps (it needs requests and tqdm, in requirements.txt).
	$(PIP) install -q --no-deps "facenet-pytorch==2.6.0"
	$(PIP) install -q --no-deps --no-build-isolation -e .
	$(PY) -c "import mmcv.ops, mmseg, mmcls, mmseg_face; print('mmcv', mmcv.__version__, 'mmseg', mmseg.__version__)"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

demo: $(STAMP)
	$(PY) tools/demo.py

clean-venv:
	rm -rf $(VENV)
