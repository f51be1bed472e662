"""nbgrader settings for every server of a zero-to-jupyterhub cohort (baked into the image).

The exchange is the ReadWriteMany volume that values.yaml mounts at /srv/nbgrader/exchange;
course membership comes from the hub's groups (nbgrader-clientcare, formgrade-clientcare).
The gradebook URL is given only to the grader's server, from a Kubernetes secret.
"""
from nbgrader.auth import JupyterHubAuthPlugin

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "clientcare"
c.Exchange.root = "/srv/nbgrader/exchange"
c.Exchange.path_includes_course = True
c.Authenticator.plugin_class = JupyterHubAuthPlugin
# No silent SQLite fallback: a server with no CLIENTCARE_DB_URL (the secret values.yaml gives
# the grader's server) cannot grade, and `clientcare` says so instead of making gradebook.db.
c.ClientCare.gradebook = "postgresql"
