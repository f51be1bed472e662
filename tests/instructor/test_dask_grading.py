"""Issue 16: `clientcare grade --scheduler ADDRESS` grades on a Dask cluster with stock nbgrader's grades.

A scheduler and two worker processes (one thread each) are started on 127.0.0.1, the gradebook is
PostgreSQL (tests/conftest.py's throwaway server), and the shared cohort graded there must get
exactly the grades stock `nbgrader autograde` gives it. The checks made before grading (one thread
per worker, SQLite only on one machine, the same course folder on every worker) are tested on a
stand-in for the cluster's client.
"""
import os
import subprocess
import sys
from types import SimpleNamespace

import pandas as pd
import pytest

from clientcare.cli import main
from clientcare.instructor.course import tools_on_path
from clientcare.instructor.dask_grading import ClusterError, check_cluster
from clientcare.instructor.results import question_scores

from cohorts import ASSIGNMENT, COHORT, TOTALS, cohort_course, copy_course

@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """The address of a Dask scheduler with two single-threaded worker processes, all on 127.0.0.1."""
    from distributed import Client

    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    env = tools_on_path(dict(os.environ))
    common = ["--no-dashboard", "--host", "127.0.0.1"]
    processes = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--port", "0",
                                   "--scheduler-file", str(scheduler_file), *common],
                                  env=env, stdout=subprocess.DEVNULL, stderr=open(folder / "scheduler.log", "w"))]
    for number in (1, 2):
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file),
             "--nthreads", "1", "--nworkers", "1", "--memory-limit", "0", "--name", f"grader-{number}", *common],
            env=env, stdout=subprocess.DEVNULL, stderr=open(folder / f"worker-{number}.log", "w")))
    try:
        with Client(scheduler_file=str(scheduler_file), timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            yield client.scheduler.address
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.slow
@pytest.mark.postgres
def test_a_cohort_graded_on_a_dask_cluster_gets_stock_nbgraders_grades(scheduler, postgres_url, stock_cohort,
                                                                        released_template, tmp_path, capsys):
    course = copy_course(released_template, tmp_path / "course", db_url=postgres_url, assignments=[ASSIGNMENT])
    course.nbgrader("generate_assignment", ASSIGNMENT, "--force", isolated=True)  # into the PostgreSQL gradebook
    cohort_course(course)
    assert main(["grade", ASSIGNMENT, "--course", str(course.root), "--scheduler", scheduler]) == 0
    out = capsys.readouterr().out
    assert f"on the Dask cluster at {scheduler}" in out and f"Graded {len(COHORT)} of {len(COHORT)} submissions" in out
    columns = ["student", "question", "score"]
    ours = question_scores(postgres_url, ASSIGNMENT)[columns]
    pd.testing.assert_frame_equal(ours, question_scores(stock_cohort.db_url, ASSIGNMENT)[columns])
    assert ours.groupby("student")["score"].sum().to_dict() == TOTALS
    assert not (course.root / "gradebook.db").exists(), "grades must go to PostgreSQL, not SQLite"


class StandIn:
    """What check_cluster asks of a Dask client, with workers that see ``views`` of the course."""

    def __init__(self, scheduler, workers, views=None, nthreads=1):
        self.scheduler = SimpleNamespace(address=scheduler)
        self.workers = {address: {"nthreads": nthreads} for address in workers}
        self.views = views

    def scheduler_info(self):
        return {"workers": self.workers}

    def run(self, function, root, probe):
        seen = function(root, probe)  # as a worker on this machine sees it
        return {address: {**seen, **(self.views or {}).get(address, {})} for address in self.workers}


def test_a_sqlite_gradebook_is_refused_when_the_cluster_reaches_another_machine(tmp_path):
    sqlite = f"sqlite:///{tmp_path / 'gradebook.db'}"
    remote = StandIn("tcp://10.1.2.3:8786", ["tcp://10.1.2.4:40000"])
    with pytest.raises(ClusterError, match="SQLite file .* other machines \\(10.1.2.3, 10.1.2.4\\)"):
        check_cluster(remote, tmp_path, sqlite)
    local_scheduler_remote_worker = StandIn("tcp://127.0.0.1:8786", ["tcp://127.0.0.1:1", "tcp://10.1.2.4:2"])
    with pytest.raises(ClusterError, match="other machines \\(10.1.2.4\\)"):
        check_cluster(local_scheduler_remote_worker, tmp_path, sqlite)


def test_workers_must_run_one_thread(tmp_path):
    with pytest.raises(ClusterError, match="run more than one thread.*--nthreads 1"):
        check_cluster(StandIn("tcp://127.0.0.1:8786", ["tcp://127.0.0.1:1"], nthreads=4), tmp_path, "postgresql://x/y")


def test_every_worker_must_see_the_same_course_folder_and_gradebook(released_template, tmp_path):
    course = copy_course(released_template, tmp_path / "course")
    workers = ["tcp://10.1.2.4:1", "tcp://10.1.2.5:1", "tcp://10.1.2.6:1"]
    url = "postgresql://grader@db/clientcare"
    (course.root / "nbgrader_config.json").write_text(f'{{"CourseDirectory": {{"db_url": "{url}"}}}}')
    same = StandIn("tcp://10.1.2.3:8786", workers)
    assert check_cluster(same, course.root, url) == workers
    assert not list(course.root.glob(".clientcare-dask-probe-*")), "the probe file is removed after the check"
    views = {workers[0]: {"root": False}, workers[1]: {"probe": False}, workers[2]: {"db_url": "sqlite:///elsewhere"}}
    with pytest.raises(ClusterError) as refused:
        check_cluster(StandIn("tcp://10.1.2.3:8786", workers, views), course.root, url)
    message = str(refused.value)
    assert f"{workers[0]} has no folder {course.root}" in message
    assert f"{workers[1]} sees a different folder at {course.root}" in message
    assert f"{workers[2]} reads another gradebook from the course's configuration: sqlite:///elsewhere" in message


def test_no_workers_and_workers_with_scheduler_are_errors(tmp_path, capsys):
    with pytest.raises(ClusterError, match="has no workers"):
        check_cluster(StandIn("tcp://127.0.0.1:8786", []), tmp_path, "postgresql://x/y")
    assert main(["grade", ASSIGNMENT, "--course", str(tmp_path), "--scheduler", "tcp://127.0.0.1:1",
                 "--workers", "2"]) == 1
    assert "--workers does not apply with --scheduler" in capsys.readouterr().err
