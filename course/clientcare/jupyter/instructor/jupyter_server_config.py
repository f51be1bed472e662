# The instructor's JupyterLab (`make instructor`): every nbgrader extension, on the course folder.
c = get_config()  # noqa: F821

# Lessons are saved without outputs or widget state, as shipped, so they always reopen working.
c.FileContentsManager.pre_save_hook = "clientcare.lab.pre_save_hook"
