# Client Care course: set-up, learner lab, instructor demo and tests.
#   make lab         create .venv, install, generate assignments, open the learner's JupyterLab
#   make instructor  open the instructor's JupyterLab (Formgrader, Create Assignment)
#   make demo   run the instructor pipeline end to end on synthetic learners
#   make test   install and run every test
#   make hub    a trial JupyterHub for a cohort on this machine (root); make hub-stop, make hub-remove
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab instructor demo test install release clean hub hub-stop hub-remove

# The packages are installed by uv (pinned in constraints.txt), which resolves, installs and compiles the ~160 of
# them in about half pip's time (34 s against 59 s on two cores); the venv keeps its own pip for the user.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt uv

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/uv pip install --quiet --system-certs --compile-bytecode --python $(BIN)/python -c constraints.txt -e ".[test]"
	$(BIN)/python -c "from clientcare.instructor.sandbox import install_kernelspec; install_kernelspec()"
	$(BIN)/jupyter labextension list 2>&1 | grep -q "@jupyter/nbgrader.*enabled" \
		|| { echo "nbgrader's JupyterLab extension is not enabled" >&2; exit 1; }
	touch $(STAMP)

install: $(STAMP) /usr/bin/bwrap

# Debian's Chromium for the real-browser test (tests/browser); Playwright downloads no browser.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
/usr/bin/chromium:
	command -v chromium >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

# Debian's bubblewrap: learners' code is graded behind it (course/clientcare/instructor/sandbox.py).
/usr/bin/bwrap:
	command -v bwrap >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y bubblewrap; }

# Debian's PostgreSQL server binaries for the PostgreSQL gradebook test (it starts a throwaway cluster).
.PHONY: postgresql
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null \
		|| { $(SUDO) apt-get update && $(SUDO) apt-get install -y postgresql; }

# Regenerate release/ from source/ (nbgrader generate_assignment for every assignment).
release: $(STAMP)
	$(BIN)/clientcare release

# The learner's view: JupyterLab on learner/ (gitignored): the lessons and the assignments fetched
# from the Assignment List, without source/, the gradebook or the instructor's tools.
lab: $(STAMP)
	@test -n "$$(ls release 2>/dev/null)" || $(BIN)/clientcare release
	$(BIN)/python -m clientcare.lab learner

# The instructor's view: JupyterLab on the course folder with Formgrader and Create Assignment.
instructor: $(STAMP)
	$(BIN)/python -m clientcare.lab instructor

demo: $(STAMP)
	$(BIN)/clientcare demo

# Unit, pipeline, integrity and real-browser tests, then every lesson under nbval (outputs checked where stored)
# and every release notebook under nbval-lax (it must run; stubs may raise).
# Learners' saved answers from these runs go to a throwaway folder.
# In parallel (pytest-xdist): the tests over PYTEST_WORKERS processes (tests/conftest.py keeps what must share
# one together), then the two nbval stages side by side, each notebook on one worker; their output is shown
# one stage after the other. `make test PYTEST_WORKERS=0` runs everything in one process.
PYTEST_WORKERS ?= auto
NBVAL = CLIENTCARE_HOME=$$(mktemp -d) MPLBACKEND=Agg $(BIN)/python -m pytest -p no:cacheprovider \
	-n $(PYTEST_WORKERS) --dist loadfile
test: $(STAMP) /usr/bin/bwrap /usr/bin/chromium postgresql
	$(BIN)/python -m pytest tests -n $(PYTEST_WORKERS) --dist loadgroup --durations=15
	@log=$$(mktemp -d); \
	$(NBVAL) --nbval course/lessons > $$log/lessons 2>&1 & lessons=$$!; \
	$(NBVAL) --nbval-lax release > $$log/release 2>&1; release=$$?; \
	wait $$lessons; lessons=$$?; \
	echo "== pytest --nbval course/lessons"; cat $$log/lessons; \
	echo "== pytest --nbval-lax release"; cat $$log/release; \
	rm -rf $$log; test $$lessons -eq 0 && test $$release -eq 0

clean:
	rm -rf $(VENV) .pytest_cache test-output

# A trial JupyterHub on this machine (README: "A cohort on JupyterHub"). Needs root: it creates
# Unix accounts, a PostgreSQL cluster and a shared environment; deploy/trial_hub.py does the work.
HUB_ROOT ?= /srv/clientcare-hub
hub:
	$(SUDO) $(PYTHON) deploy/trial_hub.py install --root $(HUB_ROOT)
	$(SUDO) $(PYTHON) deploy/trial_hub.py start --root $(HUB_ROOT)

hub-stop:
	$(SUDO) $(PYTHON) deploy/trial_hub.py stop --root $(HUB_ROOT)

hub-remove:
	$(SUDO) $(PYTHON) deploy/trial_hub.py remove --root $(HUB_ROOT)
