# nbgrader for the learner's JupyterLab (`make lab`): the course's own configuration
# (course id, exchange), with fetched assignments and their feedback in learner/assignments/
# (gitignored) instead of a clientcare/ folder wherever JupyterLab was started.
import os

import clientcare.lab as lab

c = get_config()  # noqa: F821

course_dir = os.environ.get(lab.COURSE_DIR_VARIABLE)
# The course's file reads the Jupyter config path, where this file is: read it once, not in a loop.
if course_dir and not lab.loading_course_config:
    lab.loading_course_config = True
    try:
        load_subconfig(os.path.join(course_dir, "nbgrader_config.py"))  # noqa: F821
    finally:
        lab.loading_course_config = False
if course_dir:
    c.Exchange.assignment_dir = os.path.join(course_dir, lab.LEARNER_FOLDER, lab.ASSIGNMENTS_FOLDER)
    c.Exchange.path_includes_course = False
