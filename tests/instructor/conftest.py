"""Set-up shared by the instructor tests.

Grading here runs learner code behind the OS boundary (``SandboxKernelManager``), which, run
as root, creates one Unix user per concurrent kernel, ``clientcare-sbx<N>``. The users this
test run created are removed when it ends (a user still running a kernel, of another run on
the machine, is kept).
"""
import os

import pytest

from clientcare.instructor import sandbox, warm


@pytest.fixture(scope="session", autouse=True)
def remove_created_slot_users():
    if os.geteuid() != 0:
        yield
        return
    before = set(sandbox.slot_users())
    yield
    warm.close_all()  # warm sandboxes of this process hold their slots until closed
    created = [name for name in sandbox.slot_users() if name not in before]
    sandbox.remove_slot_users(names=created)
