# The learner's JupyterLab (`make lab`): see clientcare/lab.py.
c = get_config()  # noqa: F821

# Lessons are saved without outputs or widget state, as shipped, so they always reopen working.
c.FileContentsManager.pre_save_hook = "clientcare.lab.pre_save_hook"

# Learners fetch, validate and submit assignments from the Assignment List; the instructor's
# server side (Formgrader, the course list) is not started.
c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
    "nbgrader.server_extensions.assignment_list": True,
    "nbgrader.server_extensions.validate_assignment": True,
}


# The authors' guide to writing lessons lives beside them; learners' file browser does not list it.
c.ContentsManager.hide_globs = ["__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~", "CONVENTIONS.md"]
