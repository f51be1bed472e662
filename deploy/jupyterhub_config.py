"""JupyterHub configuration for a Client Care cohort on one server.

The shape of The Littlest JupyterHub: real Unix users, each learner's server
started as that user by LocalProcessSpawner, PAM log-in, configurable-http-proxy
in front, nbgrader's documented multi-user design (groups, JupyterHubAuthPlugin,
formgrader as a hub service run by a grader account) and a PostgreSQL gradebook.

Everything site-specific is read from the settings file written by
``deploy/trial_hub.py install`` (``$CLIENTCARE_HUB_SETTINGS``, default
``/srv/clientcare-hub/settings.json``); this file holds no secret.
Start it with ``deploy/trial_hub.py start`` (``make hub`` does both).
"""
import json
import os
from pathlib import Path

c = get_config()  # noqa: F821  (provided by traitlets when JupyterHub loads this file)

SETTINGS = Path(os.environ.get("CLIENTCARE_HUB_SETTINGS", "/srv/clientcare-hub/settings.json"))
if not SETTINGS.is_file():
    raise SystemExit(f"{SETTINGS}: no hub settings; run `make hub` (deploy/trial_hub.py install) first")
settings = json.loads(SETTINGS.read_text())

COURSE = settings["course_id"]              # "clientcare": names the groups and the formgrader service
ROOT = Path(settings["root"])               # the hub's own folder (state, exchange, bundle)
VENV = Path(settings["venv"])               # the environment every server runs in
DB_URL = settings.get("db_url") or ""
if not DB_URL.startswith("postgresql"):
    # No silent SQLite fallback: a cohort's grades belong in the PostgreSQL gradebook.
    raise SystemExit(f"{SETTINGS}: 'db_url' must be a postgresql:// URL (found {DB_URL!r})")

# ---------------------------------------------------------------- network (loopback unless told)
c.JupyterHub.bind_url = f"http://{settings['ip']}:{settings['port']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [settings["proxy_command"]]
c.JupyterHub.db_url = f"sqlite:///{ROOT / 'state' / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(ROOT / "state" / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(ROOT / "state" / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True
c.JupyterHub.log_level = "INFO"

# ---------------------------------------------------------------- who may log in
# PAM checks the Unix password of a real account: right for a trial on one server.
# For launches from an LMS use the LTI 1.3 authenticator instead (README, instructor guide).
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
learners, instructors, grader = settings["learners"], settings["instructors"], settings["grader"]
# The grader account is a hub user too (nbgrader's formgrader looks itself up in the hub), but it
# has no password, so nobody logs in as it.
c.Authenticator.allowed_users = set(learners) | set(instructors) | {grader}
c.Authenticator.admin_users = set(instructors)

# nbgrader reads course membership from these group names (nbgrader-<course>, formgrade-<course>).
c.JupyterHub.load_groups = {
    f"nbgrader-{COURSE}": {"users": list(learners)},
    f"formgrade-{COURSE}": {"users": [*instructors, grader]},
}
c.JupyterHub.load_roles = [
    {   # instructors reach the formgrader service, and only that service
        "name": f"formgrade-{COURSE}",
        "groups": [f"formgrade-{COURSE}"],
        "scopes": [f"access:services!service={COURSE}", "list:services", f"read:services!service={COURSE}"],
    },
    {   # learners' servers may discover the course service (the Assignment List asks)
        "name": f"nbgrader-{COURSE}",
        "groups": [f"nbgrader-{COURSE}"],
        "scopes": ["list:services", f"read:services!service={COURSE}"],
    },
    {   # a server's token carries its owner's permissions (nbgrader reads the owner's groups)
        "name": "server",
        "scopes": ["inherit"],
    },
    {   # the formgrader service adds learners to the course group and reads the roll
        "name": f"{COURSE}-service",
        "services": [COURSE],
        "scopes": ["read:users", "read:groups", f"groups!group=nbgrader-{COURSE}", "list:users"],
    },
]

# ---------------------------------------------------------------- learners' servers
c.Spawner.cmd = [str(VENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.notebook_dir = "~"
# Learners arrive in their own copy of the lessons, pulled (and later updated) by nbgitpuller
# from the learner bundle, which holds no solution, hidden test or grading code.
c.Spawner.default_url = settings["learner_default_url"]
c.Spawner.environment = {
    "CLIENTCARE_ROLE": "learner",
    "JUPYTER_CONFIG_PATH": str(ROOT / "etc" / "jupyter"),  # this hub's nbgrader settings (trial_hub.py)
    "PATH": f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
}
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120

# ---------------------------------------------------------------- formgrader as a hub service
# Run by the grader account in the course folder. JupyterHub >= 4.1 forbids showing it in
# an iframe, so instructors open it in its own browser tab: /services/<course>/formgrader.
# The hub registers it (proxy route, OAuth client, token); deploy/trial_hub.py starts it as
# the grader account once the hub answers (a hub-managed service must answer within 10 s of
# the hub starting, which a busy machine cannot promise). Its token is in a root-only file.
c.JupyterHub.services = [
    {
        "name": COURSE,
        "url": f"http://127.0.0.1:{settings['service_port']}",
        "api_token": (ROOT / "state" / "service-token").read_text().strip(),
        "oauth_client_id": f"service-{COURSE}",
        "oauth_redirect_uri": f"/services/{COURSE}/oauth_callback",
        "oauth_no_confirm": True,
    }
]
