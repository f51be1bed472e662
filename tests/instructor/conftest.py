"""Set-up shared by the instructor tests.

Grading here runs learner code behind the OS boundary (``SandboxKernelManager``), which, run
as root, creates one Unix user per concurrent kernel, ``clientcare-sbx<N>``. Each worker closes its
warm sandboxes when its part of the run ends, which frees their slots; the users this test run
created are removed once the whole run has ended (``tests/conftest.py``: a user of this run that
one worker made may be in use by another until then).
"""
import pytest

from clientcare.instructor import warm


@pytest.fixture(scope="session", autouse=True)
def close_warm_sandboxes():
    yield
    warm.close_all()  # warm sandboxes of this process hold their slots until closed
