"""The training engine learns, reports progress, stops on request and stores its runs."""

import subprocess
import sys
import threading
import textwrap

import numpy as np
import pytest

from digitlab import data, presets, registry, training
from digitlab.architectures import ArchSpec, ConvSpec, build_model
from digitlab.config import TrainConfig, cpu_supports_bfloat16, estimate_epoch_seconds
from digitlab.records import RunRecord

SPECS = {name: preset.spec for name, preset in presets.PRESETS.items()}
QUICK = TrainConfig(protocol="full", epochs=3, batch_size=64, train_size=3000, precision="float32")


@pytest.fixture(scope="module")
def split():
    return data.load_split("full", train_size=3000)


def test_small_network_learns_far_above_chance(split):
    events = []
    result = training.train(SPECS["small"], QUICK, split, progress=events.append)
    assert result.status == "complete" and result.epochs_run == 3
    report = training.evaluate(result.model, split.x_test, split.y_test)
    assert report["accuracy"] > 0.85, report["accuracy"]  # chance is 0.10
    assert result.history["val_accuracy"][-1] > result.history["val_accuracy"][0] - 0.02
    epochs = [e for e in events if e.kind == "epoch"]
    assert [e.epoch for e in epochs] == [1, 2, 3]
    assert any(e.kind == "batch" for e in events)
    assert epochs[-1].fraction == 1.0 and epochs[-1].images_per_s > 0
    assert epochs[0].val_loss is not None and epochs[0].val_accuracy > 0.1 and epochs[0].eta_s is not None
    assert sum(map(sum, epochs[0].val_confusion_matrix)) == len(split.y_val)
    assert result.model.get_layer("conv1").compute_dtype == "float32"


def test_stop_flag_ends_at_the_next_batch_and_keeps_weights(split):
    stop = threading.Event()
    seen = []

    def progress(event):
        seen.append(event)
        stop.set()  # ask to stop at the very first report

    config = QUICK.replace(epochs=5)
    result = training.train(SPECS["small"], config, split, progress=progress, stop_event=stop)
    assert result.status == "stopped"
    assert result.epochs_run == 1
    steps = seen[0].steps
    last = [e for e in seen if e.kind == "epoch"][-1]
    assert last.partial and last.step < steps
    # What was learned is kept: the returned model is the trained one, not a fresh build.
    trained = result.model.get_layer("conv1").kernel.numpy()
    fresh = build_model(SPECS["small"]).get_layer("conv1").kernel.numpy()
    assert not np.allclose(trained, fresh)


def test_best_weights_patience_and_restore():
    model = build_model(SPECS["small"])
    best = training.BestWeights(patience=2)
    best.set_model(model)
    for epoch, loss in enumerate([1.0, 0.5, 0.7, 0.8]):
        model.stop_training = False
        if epoch == 1:
            kept = [w.copy() for w in model.get_weights()]
        best.on_epoch_end(epoch, {"val_loss": loss})
        model.set_weights([w + 1 for w in model.get_weights()])
    assert best.best_epoch == 2 and best.early_stopped and model.stop_training
    assert all(np.array_equal(a, b) for a, b in zip(best.best_weights, kept))


def test_patience_waits_for_batchnorm_to_settle():
    # Paper H's early validation loss as float32 seed 0 saw it: up at epoch 2 while BN's
    # running statistics still lag, so patience 2 stopped at epoch 3 with 92 %.
    losses = [0.70, 0.83, 0.71, 0.48, 0.31, 0.17, 0.09, 0.10, 0.11]
    model = build_model(SPECS["small"])

    def stopping_epoch(best):
        best.set_model(model)
        model.stop_training = False
        for epoch, loss in enumerate(losses):
            best.on_epoch_end(epoch, {"val_loss": loss})
            if model.stop_training:
                return epoch + 1

    settled = training.BestWeights(patience=2, settling_epochs=6)
    assert stopping_epoch(settled) == 9 and settled.best_epoch == 7
    assert stopping_epoch(training.BestWeights(patience=2)) == 3


def test_batchnorm_settling_epochs():
    # 0.99 ** 299 < 0.05 <= 0.99 ** 298: 299 steps, six epochs of Paper H's 55 steps.
    assert training.bn_settling_epochs(SPECS["paper-h"], 55) == 6
    assert training.bn_settling_epochs(SPECS["paper-h"].replace(bn_momentum=0.9), 55) == 1
    assert training.bn_settling_epochs(SPECS["paper-s-2"], 55) == 0  # no BatchNorm


def test_bfloat16_mixed_precision_trains(split):
    result = training.train(SPECS["small"], QUICK.replace(precision="bfloat16", epochs=2), split)
    assert result.precision == "bfloat16"
    assert training.evaluate(result.model, split.x_test, split.y_test)["accuracy"] > 0.8


def test_auto_precision_follows_the_hardware():
    expected = "bfloat16" if cpu_supports_bfloat16() else "float32"
    assert training.resolve_precision("auto") == expected


def test_lr_decay_per_epoch():
    schedule = training.learning_rate(presets.get("paper-h-stated").config, steps_per_epoch=55)
    assert float(schedule(55)) == pytest.approx(1e-3 * 0.99)
    assert float(schedule(550)) == pytest.approx(1e-3 * 0.99**10)


def test_train_run_stores_a_run_that_reloads_to_the_same_accuracy(models_root):
    config = QUICK.replace(epochs=2)
    record = training.train_run(RunRecord.new("quick", "small", SPECS["small"], config, command="pytest"))
    assert record.status == "complete"
    assert record.data["sizes"]["train"] == 3000 and record.params == build_model(SPECS["small"]).count_params()
    assert set(record.metrics) == {"train", "validation", "test", "mnist_test", "outside_writers"}
    outside = record.metrics["outside_writers"]  # pendigits' test writers: no fives or sevens among them
    assert outside["count"] == 2799 and record.outside_writers_accuracy == outside["correct"] / 2799
    assert [digit for digit, accuracy in enumerate(outside["per_digit"]) if accuracy is None] == [5, 7]
    assert record.outside_writers_accuracy > 0.3  # 3,000 MNIST digits for 2 epochs: far above a tenth
    assert registry.read_record("quick") == record
    reloaded = registry.load_model("quick")
    split = data.load_split("full")
    again = training.evaluate(reloaded, split.x_test, split.y_test)
    assert again["accuracy"] == pytest.approx(record.test_accuracy, abs=3e-4)
    assert again["accuracy"] > 0.85


def test_a_crash_is_stored_as_failed_with_its_message(models_root):
    # Four pooled convolutions with "valid" padding shrink 28x28 to nothing: Keras refuses.
    collapsing = ArchSpec(convs=tuple(ConvSpec(4) for _ in range(4)), padding="valid")
    with pytest.raises(ValueError):
        training.train_run(RunRecord.new("broken", "custom", collapsing, QUICK.replace(epochs=1), command="pytest"))
    record = registry.read_record("broken")
    assert record.status == "failed" and "ValueError" in record.error
    assert not (models_root / "broken" / "model.keras").exists()


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    # Logical devices must be configured before TensorFlow starts, hence a fresh process.
    script = textwrap.dedent("""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from digitlab import data, presets, training
        from digitlab.config import TrainConfig
        split = data.load_split("full", train_size=2000)
        config = TrainConfig(epochs=2, batch_size=32, strategy="mirrored", precision="float32")
        result = training.train(presets.get("small").spec, config, split)
        accuracy = training.evaluate(result.model, split.x_test, split.y_test)["accuracy"]
        print("RESULT", result.replicas, result.global_batch_size, accuracy)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    replicas, global_batch, accuracy = out.stdout.split("RESULT")[1].split()
    assert (int(replicas), int(global_batch)) == (2, 64)  # global batch = per-replica batch x replicas
    assert float(accuracy) > 0.7


def test_time_estimate_is_near_the_reference_runs_measured_epochs():
    runs, _ = registry.list_runs(root=registry.models_dir())
    records = [run.record for run in runs]
    by_name = {run.name: run.record for run in runs}
    for name in ("paper-s-1", "paper-s-2", "paper-s-3", "paper-s-4", "paper-h", "paper-h-stated"):
        record = by_name[name]
        estimate = estimate_epoch_seconds(record.spec, record.config, records)["seconds"]
        measured = record.train_time_s / record.epochs_run
        assert 0.6 < estimate / measured < 1.5, (name, estimate, measured)


def test_a_network_timed_here_before_is_estimated_from_its_own_speed():
    runs, _ = registry.list_runs(root=registry.models_dir())
    records = [run.record for run in runs]
    digitlab = next(record for record in records if record.name == "digitlab")
    preset = presets.get("digitlab")
    estimate = estimate_epoch_seconds(preset.spec, preset.config, records)
    assert estimate["same_run"] in ("digitlab", "digitlab-traces")  # one network, whatever its description says
    measured = digitlab.train_time_s / digitlab.epochs_run
    assert 0.8 < estimate["seconds"] / measured < 1.25, (estimate, measured)
    # Another batch size is another speed: back to the FLOP model.
    assert estimate_epoch_seconds(preset.spec, preset.config.replace(batch_size=64), records)["same_run"] is None


@pytest.mark.parametrize("restore_best", [True, False])
def test_a_weight_average_is_what_validation_saw_and_what_is_kept(split, restore_best):
    config = QUICK.replace(weight_ema=0.99, restore_best=restore_best)
    result = training.train(SPECS["small"], config, split)
    assert result.status == "complete"
    kept = result.best_epoch if restore_best else result.epochs_run
    report = training.evaluate(result.model, split.x_val, split.y_val)
    # The returned weights are the averaged ones validation measured, not the raw last step's.
    assert report["accuracy"] == pytest.approx(result.history["val_accuracy"][kept - 1], abs=1e-6)
    assert report["accuracy"] > 0.85


def test_an_early_stopped_run_without_restore_keeps_the_averaged_weights(split):
    # Patience 1 from epoch 1 on a tiny set: some epoch fails to improve and the run ends early.
    config = QUICK.replace(epochs=12, weight_ema=0.9, restore_best=False, early_stopping=1, train_size=300,
                           learning_rate=0.02)
    small = data.load_split("full", train_size=300)
    result = training.train(SPECS["small"], config, small)
    assert result.early_stopped and result.epochs_run < 12
    report = training.evaluate(result.model, small.x_val, small.y_val)
    assert report["accuracy"] == pytest.approx(result.history["val_accuracy"][-1], abs=1e-6)


def test_the_train_form_and_command_carry_elastic_bending_and_the_weight_average():
    from digitlab.cli import build_parser

    parsed = build_parser().parse_args(["train", "--arch", "small", "--elastic", "0.3", "--weight-ema", "0.99"])
    assert (parsed.elastic, parsed.weight_ema) == (0.3, 0.99)
    spec, config = presets.spec_and_config("small", {}, {"augment": True, "elastic": 0.3, "weight_ema": 0.99})
    assert (config.elastic, config.weight_ema) == (0.3, 0.99)
    command = presets.training_command("run", "small", spec, config)
    assert "--elastic 0.3" in command and "--weight-ema 0.99" in command
    for bad in ({"elastic": 1.5}, {"weight_ema": 1.0}, {"weight_ema": 0.0}):
        with pytest.raises(ValueError):
            TrainConfig(**bad)


def test_teachers_are_stored_runs_with_weights_that_sum_to_one():
    from digitlab.cli import build_parser
    from digitlab.config import teacher_weights

    assert teacher_weights(("a:1", "b:3")) == [("a", 0.25), ("b", 0.75)]
    assert teacher_weights(("a", "b")) == [("a", 0.5), ("b", 0.5)]
    for bad in (("a:x",), ("a:0",), (":1",)):
        with pytest.raises(ValueError):
            teacher_weights(bad)
    for bad in ({"teachers": ("a",)}, {"distill_share": 0.5}, {"teachers": ("a",), "distill_share": 1.5}):
        with pytest.raises(ValueError):
            TrainConfig(**bad)
    parsed = build_parser().parse_args(["train", "--arch", "small", "--teachers", "a:0.3", "b:0.7",
                                        "--distill-share", "0.5"])
    assert (parsed.teachers, parsed.distill_share) == (["a:0.3", "b:0.7"], 0.5)
    config = presets.get("small").config.replace(teachers=("a:0.3", "b:0.7"), distill_share=0.5)
    command = presets.training_command("run", "small", SPECS["small"], config)
    assert "--teachers a:0.3 b:0.7" in command and "--distill-share 0.5" in command


def test_a_student_learns_its_teachers_probabilities_and_validates_on_the_labels(models_root, split):
    # A stored teacher that reads every picture as a 7: its last layer sees nothing but its bias.
    teacher = build_model(SPECS["small"])
    output = teacher.get_layer("logits")
    kernel, bias = output.get_weights()
    output.set_weights([np.zeros_like(kernel), np.where(np.arange(10) == 7, 10.0, 0.0).astype(bias.dtype)])
    registry.save_run("sevens", RunRecord.new("sevens", "small", SPECS["small"], QUICK, command="pytest",
                                              status="complete"), teacher)

    config = QUICK.replace(epochs=1, teachers=("sevens",), distill_share=1.0)
    result = training.train(SPECS["small"], config, split)
    reads = training.predict_probabilities(result.model, split.x_test).argmax(axis=1)
    assert (reads == 7).mean() > 0.9  # it learned the teacher, not the labels (7s are a tenth of them)
    # Validation still scores the labels: a network sure every digit is a 7 has a large labels' loss.
    assert result.history["val_loss"][-1] > 2.0 and result.history["val_accuracy"][-1] < 0.2
    assert result.model.get_layer("conv1") is not None and len(result.model.get_weights()) == len(teacher.get_weights())


def test_a_missing_teacher_is_a_one_line_message_and_nothing_is_stored(models_root):
    config = QUICK.replace(teachers=("nobody",), distill_share=0.5)
    with pytest.raises(registry.RegistryError, match="teacher 'nobody' is not a trained run here: train it first"):
        training.train_run(RunRecord.new("student", "small", SPECS["small"], config, command="pytest"))
    assert not (models_root / "student").exists()


def test_fine_tuning_starts_from_a_stored_runs_weights_and_refuses_another_architecture(models_root, split):
    from digitlab.cli import build_parser

    trained = training.train(SPECS["small"], QUICK, split).model
    registry.save_run("base", RunRecord.new("base", "small", SPECS["small"], QUICK, command="pytest",
                                            status="complete"), trained)
    base_accuracy = training.evaluate(trained, split.x_val, split.y_val)["accuracy"]
    # One epoch at a rate too small to learn much from scratch: what it reads, it brought from the base.
    config = QUICK.replace(epochs=1, learning_rate=1e-6, init_from="base")
    tuned = training.train(SPECS["small"], config, split)
    assert tuned.history["val_accuracy"][0] > 0.85 and abs(tuned.history["val_accuracy"][0] - base_accuracy) < 0.02
    scratch = training.train(SPECS["small"], config.replace(init_from=None), split)
    assert scratch.history["val_accuracy"][0] < 0.5  # the same epoch from random weights: near chance
    wider = SPECS["small"].replace(dense_units=(SPECS["small"].dense_units[0] * 2,))
    with pytest.raises(ValueError, match="run 'base' has another architecture"):
        training.train(wider, config, split)
    parsed = build_parser().parse_args(["train", "--arch", "small", "--init-from", "base"])
    assert parsed.init_from == "base"
    command = presets.training_command("tuned", "small", SPECS["small"], presets.get("small").config.replace(init_from="base"))
    assert "--init-from base" in command


def test_fine_tuning_from_a_missing_run_is_a_one_line_message_and_nothing_is_stored(models_root):
    config = QUICK.replace(init_from="nobody")
    with pytest.raises(registry.RegistryError, match="run to start from 'nobody' is not a trained run here"):
        training.train_run(RunRecord.new("tuned", "small", SPECS["small"], config, command="pytest"))
    assert not (models_root / "tuned").exists()


def test_teachers_lengthen_the_time_estimate_by_their_forward_passes():
    records = registry.list_runs()[0]
    records = [run.record for run in records]
    preset = presets.get("digitlab")
    alone = estimate_epoch_seconds(preset.spec, preset.config.replace(augment=False), records)
    taught = estimate_epoch_seconds(preset.spec, preset.config.replace(augment=False, teachers=("digitlab", "paper-h"),
                                                                      distill_share=0.5), records)
    assert taught["same_run"] is None and taught["seconds"] > alone["seconds"] * 1.2
    # From the speed of the same network timed here, scaled by the teachers' forward passes.
    distilled = presets.get("digitlab-distilled")
    estimate = estimate_epoch_seconds(distilled.spec, distilled.config, records)
    plain = estimate_epoch_seconds(preset.spec, preset.config, records)
    assert estimate["same_run"] in ("digitlab", "digitlab-traces") and estimate["seconds"] > plain["seconds"] * 1.4
