"""nbgrader settings every server on the hub reads first (installed as <hub root>/etc/jupyter/nbgrader_config.py,
which every server finds through JUPYTER_CONFIG_PATH).

Learners' servers read only this file: the course id, where the shared exchange is, and
that course membership comes from the hub's groups (nbgrader-clientcare for learners,
formgrade-clientcare for instructors). The grader's service reads the course's own
nbgrader_config.py after it, with the gradebook URL in its environment.
"""
from nbgrader.auth import JupyterHubAuthPlugin

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "clientcare"
c.Exchange.root = "@EXCHANGE@"
c.Exchange.path_includes_course = True
c.Authenticator.plugin_class = JupyterHubAuthPlugin
# The cohort's gradebook: PostgreSQL, never a SQLite file made up on the spot (the course's own
# nbgrader_config.py keeps both settings).
c.ClientCare.gradebook = "postgresql"
c.CourseDirectory.db_url = "@DB_URL@"
