"""A class on one server: the teacher's passcode, students' limits, a fair queue, polling that stays cheap."""

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from digitlab import classroom, jobs, presets, registry
from digitlab.architectures import ArchSpec, ConvSpec, build_model, parameter_count
from digitlab.config import TrainConfig
from pages import ui

REPO = Path(__file__).resolve().parent.parent
SMALL = presets.get("small").spec
QUICK = TrainConfig(epochs=2, train_size=1000)
TEACHER = classroom.Person("t", teacher=True)
ANNA, BEN = classroom.Person("anna", teacher=False), classroom.Person("ben", teacher=False)


def test_the_passcode_unlocks_the_teacher_and_no_passcode_means_no_classroom(monkeypatch):
    monkeypatch.delenv(classroom.PASSCODE_ENV, raising=False)
    assert classroom.passcode({}) is None and classroom.is_teacher(None, None)
    assert classroom.passcode({"teacher_passcode": "owl"}) == "owl"
    monkeypatch.setenv(classroom.PASSCODE_ENV, "fox")
    assert classroom.passcode({"teacher_passcode": "owl"}) == "fox"
    assert classroom.is_teacher("fox", "fox")
    assert not classroom.is_teacher("Fox", "fox") and not classroom.is_teacher("", "fox")


@pytest.mark.parametrize("name", sorted(presets.PRESETS))
def test_parameter_count_from_the_spec_equals_keras(name):
    spec = presets.get(name).spec
    assert parameter_count(spec) == build_model(spec).count_params()


def test_students_are_held_to_their_limits_and_the_teacher_is_not():
    huge = ArchSpec(convs=tuple(ConvSpec(2048, kernel_size=9) for _ in range(4)))
    with pytest.raises(ValueError, match="parameters"):
        classroom.check_job(huge, QUICK, ANNA, 0)
    classroom.check_job(huge, QUICK, TEACHER, 0)
    with pytest.raises(ValueError, match="at most 2 per student"):
        classroom.check_job(SMALL, QUICK, ANNA, 2)
    paper_s = presets.get("paper-s-4")
    with pytest.raises(ValueError, match="training images"):
        classroom.check_job(paper_s.spec, paper_s.config, ANNA, 0)  # 40 epochs of 10,691 images
    classroom.check_job(paper_s.spec, paper_s.config.replace(train_size=2000, epochs=5), ANNA, 1)
    # Generated styles and boxed copies train too: 10,000 images a share of 0.5 each make 40,000.
    classroom.check_job(SMALL, QUICK.replace(train_size=10_000, epochs=10), ANNA, 0)
    with pytest.raises(ValueError, match="400,000 training images"):
        classroom.check_job(SMALL, QUICK.replace(train_size=10_000, epochs=10, styles_share=0.5, boxed_share=0.5),
                            ANNA, 0)
    wide = ArchSpec(convs=(ConvSpec(512, kernel_size=7, pool=False), ConvSpec(64)), dense_units=(16,))
    with pytest.raises(ValueError, match="multiply-adds"):
        classroom.check_job(wide, QUICK, ANNA, 0)


def test_the_queue_takes_the_teacher_first_then_students_in_turn():
    queued = [("a1", "anna", False, 1.0), ("a2", "anna", False, 2.0), ("a3", "anna", False, 3.0),
              ("b1", "ben", False, 4.0), ("t1", "t", True, 5.0), ("c1", "cara", False, 6.0),
              ("cli", None, True, 0.5)]
    assert classroom.fair_order(queued) == ["cli", "t1", "a1", "b1", "c1", "a2", "a3"]


def test_only_the_teacher_and_the_owner_manage_a_job():
    assert classroom.may_manage("anna", ANNA) and classroom.may_manage("anna", TEACHER)
    assert not classroom.may_manage("anna", BEN) and not classroom.may_manage(None, BEN)


@pytest.fixture
def idle_manager(models_root):
    manager = jobs.JobManager(models_root, max_running=0, background=False)  # nothing starts: all wait
    yield manager
    manager.close(kill_workers=True)


def test_students_queue_in_turn_and_cannot_stop_each_others_jobs(idle_manager):
    idle_manager.submit("teacher-job", "small", SMALL, QUICK, person=TEACHER)
    idle_manager.submit("anna-1", "small", SMALL, QUICK, person=ANNA)
    idle_manager.submit("anna-2", "small", SMALL, QUICK, person=ANNA)
    with pytest.raises(ValueError, match="at most 2"):
        idle_manager.submit("anna-3", "small", SMALL, QUICK, person=ANNA)
    idle_manager.submit("ben-1", "small", SMALL, QUICK, person=BEN)
    order = [job.name for job in idle_manager.jobs(fresh=True)]
    assert order == ["teacher-job", "anna-1", "ben-1", "anna-2"]
    assert [job.queue_position for job in idle_manager.jobs()] == [1, 2, 3, 4]
    with pytest.raises(PermissionError):
        idle_manager.stop("teacher-job", person=ANNA)
    with pytest.raises(PermissionError):
        idle_manager.stop("anna-1", person=BEN)
    assert idle_manager.stop("anna-1", person=ANNA) == "cancelled"
    assert idle_manager.stop("ben-1", person=TEACHER) == "cancelled"
    assert registry.read_record("teacher-job").status == "queued"
    idle_manager.submit("anna-3", "small", SMALL, QUICK, person=ANNA)  # a place freed


def test_polling_the_job_list_reads_the_folder_once_per_second_however_long_the_queue(idle_manager):
    for i in range(100):
        idle_manager.submit(f"job-{i:03d}", "small", SMALL, QUICK)
    before = idle_manager.listings
    start = time.monotonic()
    for _ in range(300):  # 30 pages polling, ten times each
        assert len(idle_manager.jobs(include_finished=False)) == 100
    elapsed = time.monotonic() - start
    assert idle_manager.listings - before <= 2 + elapsed


def test_a_malformed_job_record_is_read_with_defaults_and_scheduling_goes_on(idle_manager, models_root):
    idle_manager.submit("good", "small", SMALL, QUICK)
    folder = models_root / "odd"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps({
        "spec": SMALL.to_dict(), "config": None, "status": "queued", "history": None, "metrics": None,
        "job": {"submitted": None, "pid": "not a pid", "owner": 7}}))
    idle_manager.schedule()
    names = [job.name for job in idle_manager.jobs(fresh=True)]
    assert set(names) == {"good", "odd"}
    odd = next(job for job in idle_manager.jobs() if job.name == "odd")
    assert odd.record.job.submitted == 0.0 and odd.record.job.pid is None and odd.record.job.owner is None


def run_train_page(monkeypatch, tmp_path, *, teacher: bool = False):
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path))
    monkeypatch.setenv("DIGITLAB_MAX_JOBS", "0")
    monkeypatch.setenv(classroom.PASSCODE_ENV, "owl")
    app = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    app.run()
    assert app.text_input(key="teacher_passcode_input")  # the sidebar asks for the passcode
    # (AppTest redraws no sidebar after the first run, so the unlocked state is set as the box sets it.)
    app.session_state[ui.TEACHER_KEY] = teacher
    app.switch_page("pages/train.py").run()
    assert not app.exception and not app.error
    return app


def test_on_the_train_page_a_student_cannot_stop_the_teachers_job(monkeypatch, tmp_path):
    student = run_train_page(monkeypatch, tmp_path)
    assert not any(e.label == "Classroom: the four Paper S networks at once" for e in student.expander)
    assert any("Not for students" in w.value for w in student.warning)  # Paper S's 40 epochs of 10,691 images
    assert student.button(key="train_start").disabled
    student.number_input(key="train_paper-s-1_train_size").set_value(1000)
    student.number_input(key="train_paper-s-1_epochs").set_value(2)
    student.text_input(key="train_paper-s-1_name_0").set_value("student-job").run()
    assert not student.button(key="train_start").disabled
    student.button(key="train_start").click().run()
    assert not student.exception and not student.error
    assert student.button(key="stop_student-job")  # the student's own job

    other_student = run_train_page(monkeypatch, tmp_path)
    assert "stop_student-job" not in {button.key for button in other_student.button}
    teacher = run_train_page(monkeypatch, tmp_path, teacher=True)
    assert any(e.label == "Classroom: the four Paper S networks at once" for e in teacher.expander)
    teacher.text_input(key="train_paper-s-1_name_0").set_value("teacher-job")
    teacher.number_input(key="train_paper-s-1_train_size").set_value(1000)
    teacher.button(key="train_start").click().run()
    assert not teacher.exception and not teacher.error

    student.run()
    keys = {button.key for button in student.button}
    assert "stop_student-job" in keys and "stop_teacher-job" not in keys
    teacher.run()
    keys = {button.key for button in teacher.button}
    assert {"stop_student-job", "stop_teacher-job"} <= keys
    teacher.button(key="stop_student-job").click().run()
    assert json.loads((tmp_path / "student-job" / "run.json").read_text())["status"] == "cancelled"
