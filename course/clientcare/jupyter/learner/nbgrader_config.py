# nbgrader for the learner's JupyterLab (`make lab`): the course's own configuration
# (course id, exchange), with fetched assignments and their feedback in learner/assignments/
# (gitignored) instead of a clientcare/ folder wherever JupyterLab was started.
import os

c = get_config()  # noqa: F821

course_dir = os.environ.get("CLIENTCARE_COURSE_DIR")
if course_dir:
    load_subconfig(os.path.join(course_dir, "nbgrader_config.py"))  # noqa: F821
    c.Exchange.assignment_dir = os.path.join(course_dir, "learner", "assignments")
    c.Exchange.path_includes_course = False
