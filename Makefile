# Một Cửa — the front door. `make help` lists the targets.
SHELL := /bin/bash
APP   := .venvs/app
RASA  := .venvs/rasa
PY311 ?= $(shell command -v python3.11)
# Rasa 3.6 needs Python 3.10: take pyenv's if it has one, else python3.10 on the PATH.
PY310 ?= $(shell (v=$$(pyenv versions --bare 2>/dev/null | grep -E '^3\.10\.' | tail -1); \
          [ -n "$$v" ] && PYENV_VERSION=$$v pyenv which python3.10) 2>/dev/null || command -v python3.10)
PIP_FLAGS := -q --disable-pip-version-check

.PHONY: help setup setup-st system-deps run test test-fast lint nlu-report lock bench clean

help: ## Danh sách lệnh / list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: system-deps $(APP)/.installed $(RASA)/.installed ## Cài hai môi trường đã khóa phiên bản / install both locked environments

SYSTEM_PACKAGES := chromium espeak-ng fonts-dejavu-core
system-deps: ## Gói Debian: chromium (kiểm thử trình duyệt), espeak-ng (đọc số), phông DejaVu
	@missing=""; command -v chromium >/dev/null || missing="$$missing chromium"; \
	 command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	 [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	 if [ -n "$$missing" ]; then \
	   if [ "$$(id -u)" = 0 ]; then echo "… apt-get install$$missing"; \
	     apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	   else echo "Cảnh báo: thiếu gói$$missing (sudo apt-get install$$missing)"; fi; \
	 fi

$(APP)/.installed: requirements-app.lock pyproject.toml
	@echo "… Cài môi trường ứng dụng (Python 3.11) / installing the app environment"
	@test -n "$(PY311)" || { echo "Lỗi: cần python3.11"; exit 1; }
	$(PY311) -m venv $(APP)
	$(APP)/bin/pip install $(PIP_FLAGS) pip==24.3.1
	$(APP)/bin/pip install $(PIP_FLAGS) -r requirements-app.lock
	$(APP)/bin/pip install $(PIP_FLAGS) --no-deps -e .
	@touch $@

setup-st: $(APP)/.installed-st ## Thêm bộ nhúng sentence-transformers (tùy chọn, kèm torch) / the optional «st» extra

$(APP)/.installed-st: $(APP)/.installed requirements-st.lock
	$(APP)/bin/pip install $(PIP_FLAGS) -r requirements-st.lock
	@touch $@

$(RASA)/.installed: requirements-rasa.lock
	@echo "… Cài môi trường Rasa 3.6 (Python 3.10) / installing the Rasa environment"
	@test -n "$(PY310)" || { echo "Lỗi: cần python3.10 cho Rasa 3.6 (pyenv install 3.10)"; exit 1; }
	$(PY310) -m venv $(RASA)
	$(RASA)/bin/pip install $(PIP_FLAGS) pip==24.3.1
	$(RASA)/bin/pip install $(PIP_FLAGS) -r requirements-rasa.lock
	@touch $@

run: setup ## Chạy toàn bộ trợ lý (SQLite mặc định) / start the whole assistant
	$(APP)/bin/motcua serve

# Two workers (one a core); a module's tests stay on one worker, the slow modules start first (tests/conftest.py).
TEST_WORKERS ?= 2
test: setup lint ## Kiểm tra mã rồi chạy mọi kiểm thử / lint, then every test (unit, PostgreSQL, Rasa end to end, stories)
	$(APP)/bin/motcua train
	$(APP)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

test-fast: setup ## Chỉ kiểm thử nhanh / only the quick tests
	$(APP)/bin/python -m pytest -m "not slow and not integration"

LINTED := actions bot channels devices knowledge_base motcua retrieval
lint: setup ## Ruff (mọi tệp) và mypy (các gói) / ruff on everything, mypy on the packages
	$(APP)/bin/ruff check .
	$(APP)/bin/mypy $(LINTED)

bench: setup ## Đo hiệu năng / run the benchmarks under bench/
	$(APP)/bin/motcua train
	$(APP)/bin/python bench/bench_gateway.py

lock: ## Ghi lại phiên bản đang cài / write both lock files from the installed environments
	(echo "# Rasa 3.6.21 environment (Python 3.10). Regenerate: make lock"; $(RASA)/bin/pip freeze) > requirements-rasa.lock
	@# The «st» extra's packages (named in requirements-st.lock) stay out of the app lock; that lock is
	@# rewritten only when the extra is installed. Each lock keeps its comment lines at the top.
	$(APP)/bin/pip freeze --exclude-editable > $(APP)/freeze.txt
	(grep '^#' requirements-app.lock; awk -F'==' 'FNR==NR { if ($$0 !~ /^#/) st[tolower($$1)]; next } \
	  !(tolower($$1) in st)' requirements-st.lock $(APP)/freeze.txt) > $(APP)/app.lock
	mv $(APP)/app.lock requirements-app.lock
	if $(APP)/bin/pip show -q sentence-transformers 2>/dev/null; then \
	  (grep '^#' requirements-st.lock; awk -F'==' 'FNR==NR { if ($$0 !~ /^#/) st[tolower($$1)]; next } \
	    tolower($$1) in st' requirements-st.lock $(APP)/freeze.txt) > $(APP)/st.lock; \
	  mv $(APP)/st.lock requirements-st.lock; fi

clean: ## Xóa môi trường và dữ liệu cục bộ / remove environments and local data
	rm -rf .venvs var

nlu-report: setup ## Đánh giá NLU trên tập giữ lại, ghi reports/ / held-out NLU report
	$(APP)/bin/motcua train
	$(APP)/bin/python -c "from motcua.rasa_eval import *; from motcua.runtime import ensure_model; from motcua.settings import get_settings; import tempfile, pathlib; s=get_settings(); r=evaluate_nlu(s, ensure_model(s), pathlib.Path(tempfile.mkdtemp())); print(write_nlu_report(r).read_text()); u=evaluate_unseen(s, ensure_model(s), pathlib.Path(tempfile.mkdtemp())); print(write_unseen_report(u).read_text())"
