"""A cohort on the trial JupyterHub, end to end, with real Unix accounts, as real processes on loopback.

The hub is installed and started by ``deploy/trial_hub.py`` (what ``make hub`` runs) into a
scratch folder, with accounts named ``clientcare-t<hex>-...`` (removed afterwards), its own
PostgreSQL cluster (socket only) and configurable-http-proxy; Debian's Chromium, driven by
Playwright, does what the learners and the instructor would do:

- a learner logs in, gets the lessons (and no ``source/``), runs a lesson's activities;
  a quiz attempt made in the environment of the learner's server reaches the hub's LRS (Ralph,
  started by ``trial_hub.py start``) under that learner's account, and the learners' LRS
  credential cannot read statements back (the grader's can); then the learner fetches two assignments from the Assignment List, answers, validates and submits them;
- a second learner can read neither the first learner's home, submission or feedback nor
  the instructor's ``source/``, and cannot open the first learner's server;
- the instructor logs in, opens formgrader in its own tab, collects, autogrades with
  ``clientcare grade``, grades the ethical-dilemmas written answers by hand in formgrader
  and releases feedback;
- the learner fetches the feedback and opens it: results shown, no hidden test code.
Screenshots of each step go to test-output/browser/hub-*.png.
"""
from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from lab_ui import choose_menu_item, wait_for_kernel_idle, wait_for_notebook_and_kernel
from notebooks import REPO

pytestmark = [pytest.mark.hub, pytest.mark.browser, pytest.mark.postgres, pytest.mark.slow]

TRIAL_HUB = REPO / "deploy" / "trial_hub.py"
SPAWN_TIMEOUT = 120_000  # ms: a learner's first server start, nbgitpuller clone included
HIDDEN_TEST_LINES = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def _free_port_block(size: int = 100) -> int:
    """A port P such that P, P+1, P+81, P+98 and P+99 (proxy, proxy API, hub, LRS, formgrader) are free on 127.0.0.1."""
    for _ in range(50):
        base = 20000 + secrets.randbelow(30000)
        ports = (base, base + 1, base + 81, base + 98, base + 99)
        try:
            for port in ports:
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free block of ports on 127.0.0.1")


def _trial_hub(*args: str, root: Path, venv: str) -> str:
    result = subprocess.run([sys.executable, str(TRIAL_HUB), *args, "--root", str(root), "--venv", venv],
                            capture_output=True, text=True)
    assert result.returncode == 0, f"trial_hub.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def hub(output_dir):
    if os.geteuid() != 0:
        pytest.fail("the trial hub test creates Unix accounts and must run as root (as CI does)")
    root = Path(tempfile.mkdtemp(prefix="clientcare-hub-test-"))
    prefix = f"clientcare-t{secrets.token_hex(2)}-"
    port = _free_port_block()
    venv = os.environ.get("CLIENTCARE_HUB_VENV", "/opt/clientcare-hub/venv")
    try:
        _trial_hub("install", "--user-prefix", prefix, "--port", str(port), root=root, venv=venv)
        _trial_hub("start", root=root, venv=venv)
        settings = json.loads((root / "settings.json").read_text())
        settings["logins"] = json.loads((root / "state" / "logins.json").read_text())
        settings["url"] = f"http://127.0.0.1:{port}"
        yield settings
    finally:
        for log in ("hub.log", "formgrader.log"):  # kept as artefacts: the hub's folder is removed
            if (root / log).exists():
                shutil.copy2(root / log, output_dir / f"hub-{log}")
        subprocess.run([sys.executable, str(TRIAL_HUB), "remove", "--root", str(root), "--venv", venv],
                       capture_output=True, text=True)
        leftovers = [u.pw_name for u in pwd.getpwall() if u.pw_name.startswith(prefix)]
        assert not leftovers, f"accounts left behind: {leftovers}"
        with socket.socket() as probe:  # the LRS was stopped with the hub
            assert probe.connect_ex(("127.0.0.1", port + 98)) != 0, "the hub's LRS is still running"


# What a lesson's quiz does when the learner submits it, run as the learner in their server's environment.
LEARNER_QUIZ = """
import json, time
from clientcare import xapi
from clientcare.quiz import QuizSession, load_quiz
from clientcare.store import LearnerFile
QuizSession(load_quiz("01-responsibility-to-clients"), LearnerFile("quiz")).submit()
deadline = time.monotonic() + 60
while xapi.pending() and time.monotonic() < deadline:
    time.sleep(0.2)
print(json.dumps({"kept": [s["id"] for s in xapi.kept()], "pending": len(xapi.pending()),
                  "error": LearnerFile("statements").load().get("last_error")}))
"""


def _server_environment(user: str) -> dict:
    """The environment the hub gave ``user``'s server (and so its kernels)."""
    pids = subprocess.run(["pgrep", "-u", user, "-f", "jupyterhub-singleuser"], capture_output=True, text=True).stdout.split()
    assert pids, f"no server running as {user}"
    raw = Path(f"/proc/{pids[0]}/environ").read_bytes().decode()
    return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)


def _lrs_setting(path: Path):
    from clientcare.lrs import parse_settings

    return parse_settings(json.loads(path.read_text()), str(path))


def _as(user: str, *cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", user, "--", *cmd], capture_output=True, text=True)


def _psql(hub: dict, query: str) -> str:
    """A query on the hub's PostgreSQL gradebook, as the grader account (the only role allowed in)."""
    socket_dir = Path(hub["root"]) / "run"
    result = _as(hub["grader"], "psql", "-h", str(socket_dir), "-d", "clientcare", "-tAc", query)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _log_in(context: BrowserContext, hub: dict, user: str) -> Page:
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{hub['url']}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub["logins"][user])
    page.click("#login_submit")
    return page


def _open_assignment_list(page: Page) -> None:
    page.locator('#jp-menu-panel div.lm-MenuBar-itemLabel:text("Nbgrader")').click()
    page.locator('#jp-mainmenu-nbgrader li[data-command="nbgrader:open-assignment-list"]').click()
    page.locator("#released_assignments_list").wait_for()


def _row(page: Page, listing: str, name: str):
    return page.locator(f"#{listing}_assignments_list > .list_item", has=page.locator(".item_name", has_text=name))


def _put_notebook(page: Page, hub: dict, user: str, path: str, notebook: nbformat.NotebookNode) -> None:
    """Save a notebook through the learner's own server (the Jupyter contents API), as the editor does."""
    xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_xsrf")
    response = page.request.put(
        f"{hub['url']}/user/{user}/api/contents/{path}",
        data=json.dumps({"type": "notebook", "format": "json", "content": json.loads(nbformat.writes(notebook))}),
        headers={"X-XSRFToken": xsrf, "Content-Type": "application/json"},
    )
    assert response.ok, f"saving {path} as {user}: HTTP {response.status} {response.text()[:300]}"


def _model_answer(fetched: Path, assignment: str) -> nbformat.NotebookNode:
    from clientcare.instructor.synthetic import ALL, make_submission

    return make_submission(REPO / "source" / assignment / f"{assignment}.ipynb",
                           fetched / f"{assignment}.ipynb", ALL)


def _eventually(find, what: str, seconds: float = 60):
    """What ``find()`` returns once it is truthy (the exchange and feedback are written asynchronously)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        time.sleep(0.5)
    pytest.fail(f"no {what} after {seconds:.0f} s")


def _close_modal(page: Page) -> str:
    modal = page.locator(".modal-dialog:visible, .jp-Dialog").first
    modal.wait_for(timeout=120_000)
    text = modal.inner_text()
    button = modal.locator("button", has_text=re.compile("OK|Close|Ok", re.I)).first
    button.click()
    return text


def test_a_cohort_on_the_trial_hub(hub, browser, output_dir):
    learner, other = hub["learners"][0], hub["learners"][1]
    instructor, grader = hub["instructors"][0], hub["grader"]
    home = Path(pwd.getpwnam(learner).pw_dir)
    shot = lambda page, step: page.screenshot(path=str(output_dir / f"hub-{step}.png"))  # noqa: E731

    # ---- a learner logs in and has the lessons, and nothing of the instructor's
    learner_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = _log_in(learner_ctx, hub, learner)
    expect(page.locator(".jp-NotebookPanel .jp-Cell").first).to_be_visible(timeout=SPAWN_TIMEOUT)
    shot(page, "01-learner-lesson")
    lessons = sorted(p.name for p in (home / "clientcare-course" / "lessons").glob("*.ipynb"))
    assert "01-responsibility-to-clients.ipynb" in lessons and len(lessons) >= 9
    everything = {p.name for p in home.rglob("*")}
    assert not {"source", "instructor", "tests", "gradebook.db"} & everything, "instructor material in a learner's home"
    assert not any(p.read_text(errors="replace").count("### BEGIN SOLUTION")
                   for p in home.rglob("*.ipynb")), "a solution reached a learner"

    # ---- runs the lesson's activities
    wait_for_notebook_and_kernel(page)
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.click()
    choose_menu_item(page, "Run", "Run All Cells")
    # The activities are what a learner waits for (cells scrolled out of view are not drawn, so
    # the widgets in view are counted, not every cell's prompt).
    expect(page.locator(".jupyter-widgets").first).to_be_visible(timeout=SPAWN_TIMEOUT)
    wait_for_kernel_idle(page)
    assert page.locator("text=Error displaying widget").count() == 0
    shot(page, "02-learner-activities")

    # ---- a quiz attempt reaches the hub's LRS under the learner's account; learners cannot read it back
    from clientcare.lrs import LrsUnavailable, fetch_statements

    env = _server_environment(learner)
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"  # the learner's PATH has no sbin
    sent = subprocess.run([runuser, "-u", learner, "--", str(Path(hub["venv"]) / "bin" / "python"), "-c", LEARNER_QUIZ],
                          env=env, cwd=home / "clientcare-course" / "lessons", capture_output=True, text=True)
    assert sent.returncode == 0, sent.stderr
    sent = json.loads(sent.stdout.strip().splitlines()[-1])
    assert sent["kept"] and sent["pending"] == 0, f"statements not sent to the hub's LRS: {sent['error']}"
    learners_setting = Path(hub["root"]) / "etc" / "jupyter" / "clientcare_lrs.json"
    grader_setting = Path(pwd.getpwnam(grader).pw_dir) / ".jupyter" / "clientcare_lrs.json"
    held = {s["id"]: s for s in fetch_statements(_lrs_setting(grader_setting))}  # the grader's account reads all
    assert set(sent["kept"]) <= set(held), "the learner's statements are not in the hub's LRS"
    for statement_id in sent["kept"]:
        assert held[statement_id]["actor"]["account"]["name"] == learner
        assert held[statement_id]["authority"]["account"]["name"] == "clientcare-learners"
    with pytest.raises(LrsUnavailable, match="answered 40[13]"):  # write-only: no learner reads statements
        fetch_statements(_lrs_setting(learners_setting))
    lrs_folder = Path(hub["root"]) / "lrs"  # Ralph's statements and accounts: root's, and Ralph runs as root
    assert lrs_folder.stat().st_uid == 0 and lrs_folder.stat().st_mode & 0o077 == 0
    assert any(sent["kept"][0] in f.read_text() for f in lrs_folder.glob("*.jsonl"))
    assert os.stat(f"/proc/{(Path(hub['root']) / 'state' / 'lrs.pgid').read_text().strip()}").st_uid == 0
    assert grader_setting.stat().st_mode & 0o077 == 0
    assert _as(other, "ls", str(lrs_folder)).returncode != 0, "a learner can list the LRS's data"
    assert _as(other, "cat", str(grader_setting)).returncode != 0, "a learner can read the grader's LRS credential"

    # ---- fetches two assignments, answers, validates and submits
    _open_assignment_list(page)
    for assignment in ("fee-proposals", "ethical-dilemmas"):
        page.locator("#refresh_assignments_list").click()
        _row(page, "released", assignment).locator(".item_status button").click()
        expect(_row(page, "fetched", assignment)).to_be_visible()
        fetched = home / "clientcare" / assignment
        assert (fetched / f"{assignment}.ipynb").is_file()
        _put_notebook(page, hub, learner, f"clientcare/{assignment}/{assignment}.ipynb",
                      _model_answer(fetched, assignment))
    shot(page, "03-learner-fetched")
    _row(page, "fetched", "fee-proposals").locator("a.assignment-notebooks-link").click()
    page.locator("#nbgrader-clientcare-fee-proposals button", has_text="Validate").first.click()
    assert "Success" in _close_modal(page), "the model answer did not validate"
    for assignment in ("fee-proposals", "ethical-dilemmas"):
        _row(page, "fetched", assignment).locator('.item_status button:text("Submit")').click()
        expect(_row(page, "submitted", assignment)).to_be_visible(timeout=60_000)
    shot(page, "04-learner-submitted")

    # ---- a second learner sees none of it
    inbound = Path(hub["root"]) / "exchange" / "clientcare" / "inbound"
    for target in (home, home / "clientcare", inbound, Path(hub["course_root"]) / "source"):
        assert _as(other, "ls", str(target)).returncode != 0, f"{other} can list {target}"
    # nbgrader's design: the inbound folder cannot be listed, and each submission's folder name
    # ends in a random secret, so a classmate can neither find nor guess it.
    submitted = _eventually(lambda: next(inbound.glob(f"{learner}+fee-proposals+*"), None), "the submission in the exchange")
    assert len(submitted.name.rsplit("+", 1)[1]) >= 12, submitted.name
    other_ctx = browser.new_context()
    other_page = _log_in(other_ctx, hub, other)
    other_page.wait_for_url(re.compile(f"/user/{other}/"), timeout=SPAWN_TIMEOUT)
    response = other_page.request.get(f"{hub['url']}/user/{learner}/api/contents/clientcare")
    assert response.status in (403, 404) or learner not in response.url, "opened another learner's server"
    other_ctx.close()

    # ---- the instructor opens formgrader in its own tab and collects
    teacher_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    teacher = _log_in(teacher_ctx, hub, instructor)
    teacher.wait_for_url(re.compile(f"/user/{instructor}/"), timeout=SPAWN_TIMEOUT)
    formgrader = teacher_ctx.new_page()
    formgrader.goto(f"{hub['url']}/services/clientcare/formgrader/manage_assignments")
    expect(formgrader.locator("td", has_text="fee-proposals").first).to_be_visible(timeout=60_000)
    shot(formgrader, "05-formgrader")
    for assignment in ("fee-proposals", "ethical-dilemmas"):
        row = formgrader.locator("tr", has=formgrader.locator("td", has_text=assignment)).first
        row.locator(".collect a").click()
        assert "Successfully collected" in _close_modal(formgrader)

    # ---- autogrades with clientcare grade, as the grader account (its server's terminal environment)
    for assignment in ("fee-proposals", "ethical-dilemmas"):
        graded = subprocess.run([sys.executable, str(TRIAL_HUB), "grade", assignment, "--root", hub["root"],
                                 "--workers", "1"], capture_output=True, text=True)
        assert graded.returncode == 0, graded.stdout + graded.stderr
        assert "Graded 1 of 1" in graded.stdout, graded.stdout

    # ---- grades the written answers by hand in formgrader
    formgrader.goto(f"{hub['url']}/services/clientcare/formgrader/gradebook/ethical-dilemmas/ethical-dilemmas")
    formgrader.locator("a", has_text=re.compile("Submission #")).first.click()
    manual = formgrader.locator("input.score.needs_manual_grade")
    expect(manual.first).to_be_visible(timeout=60_000)
    manual_count = manual.count()
    for _ in range(manual_count):
        manual.nth(0).fill("4")        # the list shrinks as each score is saved
        manual.nth(0).press("Tab")
        time.sleep(0.3)
    shot(formgrader, "06-formgrader-manual-grade")
    written = _eventually(lambda: _psql(hub, "SELECT count(*) FROM grade WHERE manual_score = 4").strip() not in ("", "0")
                          and _psql(hub, "SELECT count(*) FROM grade WHERE manual_score = 4"), "hand-given scores in the gradebook")
    assert int(written) == manual_count, f"{written} of {manual_count} hand-given scores reached the PostgreSQL gradebook"

    # ---- generates and releases feedback
    formgrader.goto(f"{hub['url']}/services/clientcare/formgrader/manage_assignments")
    for assignment in ("fee-proposals", "ethical-dilemmas"):
        row = formgrader.locator("tr", has=formgrader.locator("td", has_text=assignment)).first
        row.locator(".generate-feedback a").click()
        _close_modal(formgrader)
        row.locator(".release-feedback a").click()
        _close_modal(formgrader)
    teacher_ctx.close()

    # ---- the learner fetches the feedback and opens it
    page.locator("#refresh_assignments_list").click()
    _row(page, "submitted", "fee-proposals").locator("button", has_text="Fetch Feedback").click()
    feedback_files = _eventually(
        lambda: list((home / "clientcare" / "fee-proposals" / "feedback").glob("*/fee-proposals.html")),
        "feedback in the learner's folder")
    relative = feedback_files[0].relative_to(home)
    page.goto(f"{hub['url']}/user/{learner}/files/{relative}")
    text = page.inner_text("body")
    shot(page, "07-learner-feedback")
    score = re.search(r"fee-proposals\W+(?:Score:\s*)?([\d.]+)\s*(?:/|of)\s*([\d.]+)", text)  # the page's heading
    assert score and float(score[1]) == float(score[2]) > 0, f"the model answer is not shown full marks: {text[:500]}"
    html = feedback_files[0].read_text()
    assert not any(line in html for line in HIDDEN_TEST_LINES)
    learner_ctx.close()
