#!/usr/bin/env python3
"""A trial JupyterHub for a Client Care cohort on this machine (what `make hub` runs).

    deploy/trial_hub.py install   environment, proxy, PostgreSQL gradebook, Unix accounts,
                                  course folder, learner bundle, released assignments
    deploy/trial_hub.py start     start PostgreSQL, the LRS (Ralph) and the hub; print the URL and logins
    deploy/trial_hub.py status    what is running
    deploy/trial_hub.py stop      stop the hub (and every server it started), the LRS and PostgreSQL
    deploy/trial_hub.py remove    stop, delete the accounts it created and its folder
    deploy/trial_hub.py grade A   autograde assignment A as the grader account (`clientcare grade A`)

Run as root (the hub starts each learner's server as that learner's Unix account).
Everything lives in one folder (``--root``, default /srv/clientcare-hub) except the Unix
accounts and the shared Python environment (``--venv``, default /opt/clientcare-hub/venv,
built from this checkout's constraints.txt with the system Python, which every account can run).
Only the Python standard library is used here, so it runs before any environment exists.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
COURSE_ID = "clientcare"
SYSTEM_PYTHON = "/usr/bin/python3"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"  # found on root's PATH; the accounts' PATH lacks sbin
# The system Python (Debian 12: 3.11.2) is older than the one constraints.txt was resolved on;
# these pins are the newest releases that still support it.
PINS_FOR_SYSTEM_PYTHON = {"soupsieve": "2.10"}  # soupsieve 3.0 and later need Python >= 3.11.5
DEBIAN_PACKAGES = {"initdb": "postgresql", "bwrap": "bubblewrap", "npm": "npm", "git": "git"}


class HubError(SystemExit):
    """A step failed; the message says which and why."""


# ---------------------------------------------------------------- small helpers

def run(cmd: list[str], *, user: str | None = None, env: dict | None = None, cwd: Path | None = None,
        what: str = "", input: str | None = None) -> str:
    """Run ``cmd`` (as ``user`` when given); return its output or stop with what it printed."""
    if user:
        cmd = [RUNUSER, "-u", user, "--", *cmd]
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, input=input)
    if result.returncode != 0:
        raise HubError(f"{what or ' '.join(cmd[:4])} failed (exit {result.returncode}):\n"
                       + (result.stdout + result.stderr).strip()[-3000:])
    return result.stdout


def say(message: str) -> None:
    print(f"[hub] {message}", flush=True)


def account_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


# ---------------------------------------------------------------- settings

def default_settings(args) -> dict:
    root = Path(args.root).resolve()
    prefix = args.user_prefix
    learners = [f"{prefix}learner{i}" for i in range(1, args.learners + 1)]
    grader = f"{prefix}grader"
    return {
        "course_id": COURSE_ID,
        "root": str(root),
        "venv": str(Path(args.venv).resolve()),
        "ip": args.ip,
        "port": args.port,
        "hub_port": args.port + 81,
        "proxy_api_port": args.port + 1,
        "service_port": args.port + 99,
        "lrs_port": args.port + 98,
        "course_iri": f"https://courses.example.org/{COURSE_ID}",
        "proxy_command": str(root / "node" / "node_modules" / ".bin" / "configurable-http-proxy"),
        "user_prefix": prefix,
        "grader": grader,
        "instructors": [f"{prefix}instructor"],
        "learners": learners,
        "course_root": f"/home/{grader}/course",
        "bundle": str(root / "learner-bundle"),
        "db_url": f"postgresql://{grader}@/{COURSE_ID}?host={root / 'run'}",
        "learner_default_url": (
            "/git-pull?repo=" + urllib.request.quote(f"file://{root / 'learner-bundle'}", safe="")
            + "&branch=main&targetPath=clientcare-course"
            + "&urlpath=" + urllib.request.quote("lab/tree/clientcare-course/lessons/01-responsibility-to-clients.ipynb", safe="")
        ),
    }


def settings_path(root: Path) -> Path:
    return root / "settings.json"


def load_settings(root: Path) -> dict:
    path = settings_path(root)
    if not path.is_file():
        raise HubError(f"{path}: not installed here; run `deploy/trial_hub.py install --root {root}` first")
    return json.loads(path.read_text())


# ---------------------------------------------------------------- install steps

def debian_packages() -> None:
    missing = sorted({pkg for tool, pkg in DEBIAN_PACKAGES.items()
                      if not (shutil.which(tool) or (PG_BIN / tool).exists())})
    if missing:
        say(f"installing Debian packages: {' '.join(missing)}")
        run(["apt-get", "update", "-qq"], what="apt-get update")
        run(["apt-get", "install", "-y", "-qq", *missing], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            what="apt-get install " + " ".join(missing))


def environment(venv: Path) -> None:
    """The shared environment: this checkout installed (not editable) with the hub's pins."""
    stamp_text = hashlib.sha256(b"".join(
        (REPO / name).read_bytes() for name in ("pyproject.toml", "constraints.txt"))).hexdigest()
    stamp = venv / ".clientcare-stamp"
    python = str(venv / "bin" / "python")
    # uv (pinned in constraints.txt, installed into the environment by its own pip) installs the packages
    # in about a third of pip's time
    uv = [str(venv / "bin" / "uv"), "pip", "install", "--quiet", "--system-certs", "--compile-bytecode", "--python", python]
    if not (venv / "bin" / "python").exists():
        say(f"creating the shared environment {venv} (system Python, readable by every account)")
        run([SYSTEM_PYTHON, "-m", "venv", str(venv)], what="python3 -m venv")
    if not stamp.exists() or stamp.read_text() != stamp_text:
        say("installing pinned packages into the shared environment")
        constraints = venv / "constraints.txt"
        constraints.write_text(system_python_constraints())
        run([python, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", "-c", str(constraints), "uv"],
            what="pip install uv")
        run(uv + ["-c", str(constraints), f"{REPO}[hub]"], what="uv pip install clientcare[hub]")
        stamp.write_text(stamp_text)
    # This checkout's own code, built afresh every install (cheap: no dependencies resolved).
    run(uv + ["--no-deps", "--reinstall-package", "clientcare", str(REPO)], what="uv pip install clientcare")
    # The grading kernel's spec, written where only root may write (the grader account reads it).
    run([python, "-c", "from clientcare.instructor.sandbox import install_kernelspec; install_kernelspec()"],
        what="install the grading kernel's spec")
    venv_tools = [str(venv / "bin" / "jupyter")]
    # Instructor-only extensions are off for everyone; the grader account turns them on for itself.
    for ext in ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"):
        run(venv_tools + ["labextension", "disable", "--level=sys_prefix", ext], what=f"disable {ext}")
    run(venv_tools + ["server", "extension", "disable", "--sys-prefix", "nbgrader.server_extensions.formgrader"],
        what="disable the formgrader server extension")
    os.chmod(venv, 0o755)


def system_python_constraints() -> str:
    """constraints.txt with the few pins the system Python needs instead."""
    lines = []
    for line in (REPO / "constraints.txt").read_text().splitlines():
        name = line.split("==")[0].strip().lower()
        lines.append(f"{name}=={PINS_FOR_SYSTEM_PYTHON[name]}" if name in PINS_FOR_SYSTEM_PYTHON else line)
    return "\n".join(lines) + "\n"


def proxy(root: Path) -> None:
    """configurable-http-proxy from the npm registry, at the version pinned in deploy/package-lock.json."""
    node = root / "node"
    node.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(DEPLOY / name, node / name)
    if not (node / "node_modules" / ".bin" / "configurable-http-proxy").exists():
        say("installing configurable-http-proxy (npm ci)")
        run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=node, what="npm ci")


def accounts(s: dict) -> dict[str, str]:
    """Create the Unix accounts the hub serves; return their logins (new passwords each install)."""
    logins = {}
    for name in [s["grader"], *s["instructors"], *s["learners"]]:
        if not account_exists(name):
            run(["useradd", "--create-home", "--shell", "/bin/bash", "--comment", "Client Care hub account", name],
                what=f"useradd {name}")
        home = Path(pwd.getpwnam(name).pw_dir)
        os.chmod(home, 0o700)                 # no account reads another's home
        if name != s["grader"]:               # the grader account is not for logging in
            password = secrets.token_urlsafe(12)
            subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
            logins[name] = password
    return logins


def postgres(s: dict) -> None:
    """A PostgreSQL cluster of the hub's own: Unix socket only, the grader account by peer authentication."""
    root = Path(s["root"])
    data, sock = root / "postgres", root / "run"
    sock.mkdir(parents=True, exist_ok=True)
    shutil.chown(sock, "postgres", "postgres")
    os.chmod(sock, 0o755)
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        shutil.chown(data, "postgres", "postgres")
        run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=peer", "--auth-host=reject"],
            user="postgres", what="initdb")
        (data / "pg_hba.conf").write_text(
            "# Client Care hub: socket only; each role only for the Unix account of the same name\n"
            "local all postgres peer\n"
            f"local {COURSE_ID} {s['grader']} peer\n"
        )
    pg_start(s)
    exists = run([str(PG_BIN.parent / "bin" / "psql"), "-h", str(sock), "-tAc",
                  f"SELECT 1 FROM pg_roles WHERE rolname='{s['grader']}'"], user="postgres", what="psql")
    if not exists.strip():
        run([str(PG_BIN / "createuser"), "-h", str(sock), s["grader"]], user="postgres", what="createuser")
        run([str(PG_BIN / "createdb"), "-h", str(sock), "-O", s["grader"], COURSE_ID], user="postgres",
            what="createdb")


def pg_start(s: dict) -> None:
    root = Path(s["root"])
    data = root / "postgres"
    status = subprocess.run([RUNUSER, "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(data), "status"],
                            capture_output=True)
    if status.returncode != 0:
        run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w", "start",
             "-o", f"-k {root / 'run'} -c listen_addresses=''"], user="postgres", what="pg_ctl start")


def pg_stop(s: dict) -> None:
    data = Path(s["root"]) / "postgres"
    if (data / "postmaster.pid").exists():
        subprocess.run([RUNUSER, "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast",
                        "-w", "stop"], capture_output=True)


def hub_folders(s: dict) -> None:
    root = Path(s["root"])
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    state = root / "state"
    state.mkdir(exist_ok=True)
    os.chmod(state, 0o700)                    # the hub's database and cookie secret: root only
    exchange = root / "exchange"
    exchange.mkdir(exist_ok=True)
    os.chmod(exchange, 0o777)                 # nbgrader's exchange: everyone may release into or submit to it
    settings_path(root).write_text(json.dumps(s, indent=2) + "\n")
    os.chmod(settings_path(root), 0o644)


def config_dir(s: dict) -> Path:
    """The hub's own Jupyter config folder, first on every server's JUPYTER_CONFIG_PATH (not the shared
    environment's etc/jupyter: several hubs may share one environment)."""
    return Path(s["root"]) / "etc" / "jupyter"


def nbgrader_global_config(s: dict) -> None:
    """What every server on the hub reads first: the course, the exchange, the hub as the roll."""
    folder = config_dir(s)
    folder.mkdir(parents=True, exist_ok=True)
    text = (DEPLOY / "nbgrader_hub_config.py").read_text()
    text = text.replace("@EXCHANGE@", str(Path(s["root"]) / "exchange")).replace("@DB_URL@", s["db_url"])
    (folder / "nbgrader_config.py").write_text(text)


def course_folder(s: dict) -> None:
    """The grader account's course: this checkout's source/ and config; assignments generated and released."""
    grader, course = s["grader"], Path(s["course_root"])
    if course.exists():
        shutil.rmtree(course)
    course.mkdir(parents=True)
    shutil.copytree(REPO / "source", course / "source", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy2(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
    run(["chown", "-R", f"{grader}:{grader}", str(course)])
    env = grader_env(s)
    run([str(Path(s["venv"]) / "bin" / "jupyter"), "labextension", "enable", "--level=user",
         "@jupyter/nbgrader:formgrader"], user=grader, env=env, what="enable formgrader for the grader")
    run([str(Path(s["venv"]) / "bin" / "jupyter"), "labextension", "enable", "--level=user",
         "@jupyter/nbgrader:create-assignment"], user=grader, env=env, what="enable create-assignment")
    # (`jupyter server extension enable --user` refuses nbgrader's sub-extensions, so the setting is written.)
    config = Path(env["HOME"]) / ".jupyter" / "jupyter_server_config.json"
    config.write_text(json.dumps({"ServerApp": {"jpserver_extensions": {
        "nbgrader.server_extensions.formgrader": True}}}, indent=2) + "\n")
    run(["chown", f"{grader}:{grader}", str(config)])
    assignments = sorted(p.name for p in (course / "source").iterdir() if (p / f"{p.name}.ipynb").exists())
    run([str(Path(s["venv"]) / "bin" / "python"), "-c", PREPARE_COURSE, json.dumps(s["learners"]), *assignments],
        user=grader, env=env, cwd=course, what="put the roll in the gradebook, generate and release the assignments")


# Run as the grader in the course folder, with the learners (JSON) and the assignments as arguments: what
# `nbgrader db student add`, `generate_assignment --force` and `release_assignment --force` would do, in one
# process (each nbgrader command spends a second or two starting). The hub is not running yet: the roll goes
# into the gradebook only (the hub's groups come from jupyterhub_config.py), so nbgrader is told not to ask the
# hub for them now.
PREPARE_COURSE = """
import json, sys
from nbgrader.api import Gradebook
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from clientcare.instructor.config import course_config

config = course_config('.')
config.Authenticator.plugin_class = 'nbgrader.auth.NoAuthPlugin'
config.ExchangeReleaseAssignment.force = True
api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
with Gradebook(api.coursedir.db_url) as gradebook:
    for learner in json.loads(sys.argv[1]):
        gradebook.update_or_create_student(learner)
for assignment in sys.argv[2:]:
    for step in (api.generate_assignment, api.release_assignment):
        result = step(assignment)
        if not result.get('success'):
            sys.exit(f"{step.__name__} {assignment} failed:\\n{result.get('error') or ''}{result.get('log') or ''}"[-3000:])
"""


def grader_env(s: dict) -> dict:
    home = pwd.getpwnam(s["grader"]).pw_dir
    return {
        "HOME": home, "USER": s["grader"], "LANG": "C.UTF-8",
        "PATH": f"{Path(s['venv']) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "CLIENTCARE_DB_URL": s["db_url"],
        "CLIENTCARE_EXCHANGE": str(Path(s["root"]) / "exchange"),
        "JUPYTER_CONFIG_PATH": str(config_dir(s)),
    }


def lrs(s: dict) -> None:
    """The hub's Learning Record Store: Ralph (clientcare[hub]), served by root on loopback with its
    file-system backend in <root>/lrs (root only). Two accounts, restricted by scope (Ralph's
    LRS_RESTRICT_BY_SCOPES): learners' servers share one that may only write statements (it is in
    their LRS setting, on the hub's JUPYTER_CONFIG_PATH); the grader account's may read them all
    (in its own ~/.jupyter, which only it reads), for the cohort report's practice section."""
    folder = Path(s["root"]) / "lrs"
    folder.mkdir(exist_ok=True)
    os.chmod(folder, 0o700)
    users = {"clientcare-learners": (secrets.token_urlsafe(18), ["statements/write"]),
             "clientcare-grader": (secrets.token_urlsafe(18), ["statements/read"])}
    run([str(Path(s["venv"]) / "bin" / "python"), "-c",
         "import json, sys; from pathlib import Path; from clientcare.instructor.ralph import write_auth_file; "
         "write_auth_file(Path(sys.argv[1]), json.load(sys.stdin))", str(folder / "auth.json")],
        input=json.dumps(users), what="write the LRS's accounts")
    os.chmod(folder / "auth.json", 0o600)
    endpoint = f"http://127.0.0.1:{s['lrs_port']}/xAPI/"
    for path, name, owner, mode in (
            (config_dir(s) / "clientcare_lrs.json", "clientcare-learners", "root", 0o644),
            (Path(pwd.getpwnam(s["grader"]).pw_dir) / ".jupyter" / "clientcare_lrs.json", "clientcare-grader",
             s["grader"], 0o600)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"endpoint": endpoint, "username": name, "password": users[name][0],
                                    "course_iri": s["course_iri"]}, indent=2) + "\n")
        os.chmod(path, mode)
        shutil.chown(path, owner, owner)


def learner_bundle(s: dict) -> None:
    run([str(Path(s["venv"]) / "bin" / "clientcare"), "publish", s["bundle"], "--lessons", str(REPO / "course" / "lessons")],
        what="clientcare publish")
    # Learners clone the bundle as themselves; git refuses a repository another account owns unless told.
    for path in safe_directories(s):
        subprocess.run(["git", "config", "--system", "--unset-all", "safe.directory", f"^{path}$"], capture_output=True)
        run(["git", "config", "--system", "--add", "safe.directory", path], what="git config safe.directory")


def safe_directories(s: dict) -> list[str]:
    return [s["bundle"], f"{s['bundle']}/.git"]


def install(args) -> None:
    if os.geteuid() != 0:
        raise HubError("run as root: the hub starts each learner's server as that learner's Unix account")
    s = default_settings(args)
    debian_packages()
    hub_folders(s)
    environment(Path(s["venv"]))
    proxy(Path(s["root"]))
    logins = accounts(s)
    postgres(s)
    nbgrader_global_config(s)
    course_folder(s)
    lrs(s)
    learner_bundle(s)
    token = Path(s["root"]) / "state" / "service-token"
    if not token.exists():
        token.write_text(secrets.token_hex(32) + "\n")
        os.chmod(token, 0o600)
    logins_file = Path(s["root"]) / "state" / "logins.json"
    logins_file.write_text(json.dumps(logins, indent=2) + "\n")
    say(f"installed in {s['root']}; logins saved in {logins_file} (root only)")


# ---------------------------------------------------------------- start / stop

def hub_url(s: dict) -> str:
    return f"http://{s['ip']}:{s['port']}"


def hub_pid(s: dict) -> int | None:
    pid_file = Path(s["root"]) / "state" / "jupyterhub.pid"
    try:
        pid = int(pid_file.read_text())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def start(args) -> None:
    s = load_settings(Path(args.root).resolve())
    pg_start(s)
    if hub_pid(s):
        say(f"already running at {hub_url(s)}")
    else:
        launch_lrs(s)
        launch_hub(s)
        launch_formgrader(s)
    say(f"the hub is at {hub_url(s)}/hub/login")
    logins = Path(s["root"]) / "state" / "logins.json"
    if logins.exists():
        for name, password in json.loads(logins.read_text()).items():
            role = "instructor" if name in s["instructors"] else "learner"
            say(f"  {role:10} {name:32} password {password}")
    say(f"instructors open formgrader in its own tab: {hub_url(s)}/services/{COURSE_ID}/formgrader")


def launch_hub(s: dict) -> None:
    """Start JupyterHub (and its proxy) in a session of its own; return once it answers."""
    root = Path(s["root"])
    env = {"PATH": f"{Path(s['venv']) / 'bin'}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
           "CLIENTCARE_HUB_SETTINGS": str(settings_path(root)), "HOME": "/root"}
    with open(root / "hub.log", "ab") as log:
        process = subprocess.Popen(
            [str(Path(s["venv"]) / "bin" / "jupyterhub"), "-f", str(DEPLOY / "jupyterhub_config.py")],
            cwd=root / "state", env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    (root / "state" / "hub.pgid").write_text(str(process.pid))
    wait_for(f"{hub_url(s)}/hub/health", process, root / "hub.log")


def lrs_url(s: dict) -> str:
    return f"http://127.0.0.1:{s['lrs_port']}"


def launch_lrs(s: dict) -> None:
    """Ralph, as root on loopback, in a session of its own (what ``ralph runserver -b fs`` starts, through
    clientcare.instructor.ralph_app, which makes the file-system backend append)."""
    folder = Path(s["root"]) / "lrs"
    env = {"PATH": f"{Path(s['venv']) / 'bin'}:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/root",
           "RALPH_RUNSERVER_BACKEND": "fs", "RALPH_APP_DIR": str(folder / "app"),
           "RALPH_AUTH_FILE": str(folder / "auth.json"), "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(folder),
           "RALPH_LRS_RESTRICT_BY_AUTHORITY": "true", "RALPH_LRS_RESTRICT_BY_SCOPES": "true", "RALPH_SENTRY_DSN": ""}
    with open(folder / "ralph.log", "ab") as log:
        process = subprocess.Popen(
            [str(Path(s["venv"]) / "bin" / "python"), "-m", "uvicorn", "clientcare.instructor.ralph_app:app",
             "--host", "127.0.0.1", "--port", str(s["lrs_port"]), "--log-level", "warning"],
            cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    (Path(s["root"]) / "state" / "lrs.pgid").write_text(str(process.pid))
    wait_for(f"{lrs_url(s)}/__heartbeat__", process, folder / "ralph.log")
    say(f"the LRS (Ralph) is at {lrs_url(s)}/xAPI/ (statements in {folder})")


def service_env(s: dict) -> dict:
    """The grader service's environment: what JupyterHub gives a service it starts itself, and the
    gradebook URL. nbgrader's JupyterHubAuthPlugin needs the JUPYTERHUB_* part for every command."""
    root, course = Path(s["root"]), COURSE_ID
    prefix = f"/services/{course}/"
    return {
        **grader_env(s),
        "SHELL": "/bin/bash",
        "CLIENTCARE_ROLE": "grader",
        "JUPYTERHUB_SERVICE_NAME": course,
        "JUPYTERHUB_API_TOKEN": (root / "state" / "service-token").read_text().strip(),
        "JUPYTERHUB_CLIENT_ID": f"service-{course}",
        "JUPYTERHUB_USER": s["grader"],
        "JUPYTERHUB_SERVER_NAME": "",
        "JUPYTERHUB_API_URL": f"http://127.0.0.1:{s['hub_port']}/hub/api",
        "JUPYTERHUB_BASE_URL": "/",
        "JUPYTERHUB_HOST": "",
        "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{s['service_port']}",
        "JUPYTERHUB_SERVICE_PREFIX": prefix,
        "JUPYTERHUB_OAUTH_CALLBACK_URL": f"{prefix}oauth_callback",
        "JUPYTERHUB_OAUTH_ACCESS_SCOPES": json.dumps(["access:services", f"access:services!service={course}"]),
        "JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES": "[]",
        "JUPYTERHUB_DEFAULT_URL": "/formgrader",
    }


def launch_formgrader(s: dict) -> None:
    """The formgrader service: jupyterhub-singleuser as the grader account, in the course folder."""
    root, prefix = Path(s["root"]), f"/services/{COURSE_ID}/"
    env = service_env(s)
    with open(root / "formgrader.log", "ab") as log:
        process = subprocess.Popen(
            [RUNUSER, "-u", s["grader"], "--", str(Path(s["venv"]) / "bin" / "jupyterhub-singleuser"),
             f"--ServerApp.root_dir={s['course_root']}"],
            cwd=s["course_root"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    (root / "state" / "formgrader.pgid").write_text(str(process.pid))
    wait_for(f"http://127.0.0.1:{s['service_port']}{prefix}api/status", process, root / "formgrader.log",
             ok=(200, 302, 403))


def wait_for(url: str, process: subprocess.Popen, log: Path, ok=(200,), seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HubError(f"{process.args[-1] if process.args else 'a process'} exited (status {process.returncode});"
                           f" the end of {log}:\n" + log.read_text(errors="replace")[-3000:])
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status in ok:
                    return
        except urllib.error.HTTPError as error:
            if error.code in ok:
                return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise HubError(f"nothing answered at {url} within {seconds:.0f} s; the end of {log}:\n"
                   + log.read_text(errors="replace")[-3000:])


def stop(args) -> None:
    root = Path(args.root).resolve()
    if not settings_path(root).exists():
        return
    s = load_settings(root)
    stop_processes(s)
    pg_stop(s)
    say("stopped")


def stop_processes(s: dict) -> None:
    """Stop the hub, the proxy and every server it started, then anything left running as the hub's accounts."""
    pid = hub_pid(s)
    if pid:
        os.kill(pid, signal.SIGTERM)          # JupyterHub stops the servers it started (cleanup_servers)
        for _ in range(60):
            if not hub_pid(s):
                break
            time.sleep(0.5)
    for name in ("hub.pgid", "formgrader.pgid", "lrs.pgid"):  # the proxy shares the hub's session
        pgid_file = Path(s["root"]) / "state" / name
        if pgid_file.exists():
            try:
                os.killpg(int(pgid_file.read_text()), signal.SIGKILL)
            except (OSError, ValueError):
                pass
            pgid_file.unlink()
    for name in [s["grader"], *s["instructors"], *s["learners"]]:
        if account_exists(name):
            subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)


def grade(args) -> None:
    """`clientcare grade ASSIGNMENT` as the grader account, in the environment of its server's terminal."""
    s = load_settings(Path(args.root).resolve())
    if not args.assignment:
        raise HubError("name the assignment: deploy/trial_hub.py grade ASSIGNMENT")
    result = subprocess.run([RUNUSER, "-u", s["grader"], "--", str(Path(s["venv"]) / "bin" / "clientcare"), "grade",
                             args.assignment, "--course", s["course_root"], *args.extra],
                            cwd=s["course_root"], env=service_env(s))
    if result.returncode:
        raise HubError(f"clientcare grade {args.assignment} failed (exit {result.returncode})")


def status(args) -> None:
    s = load_settings(Path(args.root).resolve())
    pid = hub_pid(s)
    say(f"hub: {'running at ' + hub_url(s) + f' (pid {pid})' if pid else 'stopped'}")
    try:
        with urllib.request.urlopen(f"{lrs_url(s)}/__heartbeat__", timeout=2):
            say(f"LRS: running at {lrs_url(s)}/xAPI/")
    except (OSError, KeyError):
        say("LRS: stopped")


def remove(args) -> None:
    root = Path(args.root).resolve()
    if settings_path(root).exists():
        s = load_settings(root)
        stop(args)
        for name in [s["grader"], *s["instructors"], *s["learners"]]:
            if account_exists(name):
                subprocess.run(["userdel", "--remove", name], capture_output=True)
        for path in safe_directories(s):
            subprocess.run(["git", "config", "--system", "--unset-all", "safe.directory", f"^{path}$"],
                           capture_output=True)
    shutil.rmtree(root, ignore_errors=True)
    say(f"removed {root} and its accounts (the shared environment {args.venv} is kept; delete it by hand)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["install", "start", "status", "stop", "remove", "grade"])
    parser.add_argument("assignment", nargs="?", help="with `grade`: the assignment to autograde")
    parser.add_argument("--root", default="/srv/clientcare-hub", help="the hub's folder")
    parser.add_argument("--venv", default="/opt/clientcare-hub/venv", help="the shared Python environment")
    parser.add_argument("--ip", default="127.0.0.1", help="address to serve on (loopback by default)")
    parser.add_argument("--port", type=int, default=8000, help="public port; the hub uses the next ones")
    parser.add_argument("--user-prefix", default="clientcare-", help="prefix of the Unix accounts created")
    parser.add_argument("--learners", type=int, default=2, help="how many demo learner accounts")
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "grade":
        parser.error(f"unrecognised arguments: {' '.join(extra)}")
    args.extra = extra  # `grade` passes them on to `clientcare grade` (e.g. --workers 1)
    {"install": install, "start": start, "status": status, "stop": stop, "remove": remove,
     "grade": grade}[args.command](args)


if __name__ == "__main__":
    main()
