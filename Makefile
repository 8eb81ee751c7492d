VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test install install-test bench clean

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --upgrade pip

#: an editable install leaves the bytecode to be written on first import, which never
#: happens where PYTHONDONTWRITEBYTECODE is set: every process would compile expfam's
#: sources again (~0.15 s per start); compile them once here, as pip does for a wheel
BYTECODE := $(PY) -m compileall -q src > /dev/null

install: $(PY)
	$(PIP) install -e .[plot,pandas,io]
	$(BYTECODE)

install-test: $(PY)
	$(PIP) install -e .[test,plot,pandas,io,dask]
	$(BYTECODE)

demo: install
	$(VENV)/bin/expfam demo

#: the public modules checked by mypy
TYPED := src/expfam/__init__.py src/expfam/errors.py src/expfam/domains.py \
	src/expfam/moments.py src/expfam/solvers.py src/expfam/stats.py src/expfam/fitting.py \
	src/expfam/divergence.py src/expfam/families/_base.py src/expfam/families/_finite.py

test: install-test
	$(PY) -m ruff check src tests benchmarks scripts
	$(PY) -m mypy $(TYPED)
	$(PY) -m pytest -q -n auto

bench: install-test
	$(PY) benchmarks/bench_fit.py
	$(PY) benchmarks/bench_groups.py
	$(PY) benchmarks/bench_stream.py
	$(PY) benchmarks/bench_dask.py
	$(PY) benchmarks/bench_sgd.py
	$(PY) benchmarks/bench_accuracy.py
	$(PY) benchmarks/bench_efax.py
	$(PY) benchmarks/bench_precision.py
	$(PY) benchmarks/bench_gof.py
	$(PY) benchmarks/bench_select.py
	$(PY) benchmarks/bench_select_vs.py
	$(PY) benchmarks/bench_ising.py
	$(PY) benchmarks/bench_gibbs_dense.py
	$(PY) benchmarks/bench_mixture_stream.py
	$(PY) benchmarks/bench_ebm_data.py
	$(PY) benchmarks/bench_coniii.py
	$(PY) benchmarks/bench_mixture.py
	$(PY) benchmarks/bench_small.py
	$(PY) benchmarks/bench_kl_torch.py
	$(PY) benchmarks/bench_kl_compile.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info expfam_demo.png
