"""The command line: `python -m digitlab train | evaluate | predict | benchmark | realworld | models | papers | reproduce | export`."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import threading
import time
from pathlib import Path

# Quiet TensorFlow's start-up chatter before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from digitlab import data, papers, presets, registry  # noqa: E402  (none of these loads TensorFlow)
from digitlab.architectures import ACTIVATIONS, ArchSpec  # noqa: E402
from digitlab.config import CONFIG_FLAGS  # noqa: E402
from digitlab.records import ProgressEvent, RunRecord  # noqa: E402

# Commands that need TensorFlow import the modules that load it (training, inference, ...)
# inside the command, after `start_tensorflow`: `models`, `papers` and `--help` answer at once.


def start_tensorflow() -> None:
    """Import TensorFlow and probe its devices with the C++ start-up log lines silenced.

    TensorFlow's absl logging ignores TF_CPP_MIN_LOG_LEVEL for its start-up notices
    (oneDNN, CUDA probing), which would bury the CLI's own one-line messages.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class UserError(Exception):
    """A problem the user can fix; printed as one line, no traceback."""


def _percent(value) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def _print_progress(event: ProgressEvent) -> None:
    if event.kind != "epoch":
        return
    line = (
        f"epoch {event.epoch}/{event.epochs}{' (stopped early)' if event.partial else ''}: "
        f"loss {event.loss:.4f} acc {_percent(event.accuracy)}"
    )
    if event.val_loss is not None:
        line += f" | val_loss {event.val_loss:.4f} val_acc {_percent(event.val_accuracy)}"
    line += f" | {event.images_per_s:.0f} img/s, {event.elapsed_s:.0f}s elapsed"
    if event.eta_s:
        line += f", ETA {event.eta_s:.0f}s"
    print(line, flush=True)


def cmd_train(args) -> int:
    from digitlab import training

    preset = presets.get(args.arch)
    spec = preset.spec
    if args.spec_json:
        try:
            spec = ArchSpec.from_dict(json.loads(args.spec_json))
        except (ValueError, TypeError, KeyError) as exc:
            raise UserError(f"--spec-json is not a valid architecture spec: {exc}") from None
    spec_changes = {
        key: value for key, value in {
            "dropout": args.dropout, "activation": args.activation, "bn_momentum": args.bn_momentum,
            "dense_units": tuple(args.dense_units) if args.dense_units else None,
            "dense_batch_norm": args.dense_batch_norm,
        }.items() if value is not None
    }
    if args.batch_norm is not None:
        spec_changes["convs"] = tuple(conv.replace(batch_norm=args.batch_norm) for conv in spec.convs)
    config_changes = {flag.field: flag.value(getattr(args, flag.field)) for flag in CONFIG_FLAGS
                      if getattr(args, flag.field) is not None}
    try:
        spec = spec.replace(**spec_changes)
        config = preset.config.replace(**config_changes)
        name = registry.validate_name(args.name or f"{args.arch}-{config.protocol}-seed{config.seed}")
    except ValueError as exc:
        raise UserError(str(exc)) from None
    command = "python -m digitlab " + shlex.join(sys.argv[1:] if args.argv is None else args.argv)
    print(f"training {name}: {spec.description or args.arch}; {config.to_dict()}", flush=True)
    # Ctrl-C asks training to stop at the next batch: a KeyboardInterrupt raised inside
    # TensorFlow's C++ can crash the process and lose the run. A second Ctrl-C aborts.
    stop = threading.Event()
    stop.reason = "interrupted"

    def on_interrupt(signum, frame):
        print("stopping after this batch (Ctrl-C again to abort)", file=sys.stderr, flush=True)
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        record = training.train_run(RunRecord.new(name, args.arch, spec, config, command=command),
                                    progress=_print_progress, stop_event=stop)
    except ValueError as exc:  # e.g. a network whose feature maps shrink below nothing; stored runs are kept
        reason = " ".join(str(exc).split())
        raise UserError(f"training {name} failed ({type(exc).__name__}: {reason[:300]}); "
                        f"nothing stored was replaced, and the failure is noted in {name}/{registry.FAILURES_FILE}") from None
    finally:
        signal.signal(signal.SIGINT, previous)
    print(
        f"{name}: {record.status} after {record.epochs_run} epochs in {record.train_time_s:.0f}s "
        f"({record.precision}, {record.images_per_s:.0f} img/s); "
        f"train {_percent(record.report('train').get('accuracy'))}, "
        f"validation {_percent(record.report('validation').get('accuracy'))}, test {_percent(record.test_accuracy)} "
        f"({record.report('test').get('count')} images), MNIST test {_percent(record.mnist_test_accuracy)}",
        flush=True,
    )
    if args.set_default:
        registry.set_default(name)
        print(f"{name} is now the default model")
    return 0 if record.status in ("complete", "stopped") else 130


def cmd_evaluate(args) -> int:
    from digitlab import realworld, training

    run = registry.get_run(args.model)
    model = registry.load_model(run.name)
    protocol = run.record.protocol or "full"  # an uploaded model was read on MNIST's 10,000, as "full" is
    split = data.load_split(protocol)
    results = {"test": training.evaluate(model, split.x_test, split.y_test)}
    if protocol == "paper-s":
        results["mnist_test"] = training.evaluate(model, *data.mnist_test_set())
    results["outside_writers"] = realworld.outside_writers_report(lambda images: training.predict_probabilities(model, images))
    record = run.record
    if args.record_outside:  # a run trained before runs recorded it: run.json gains it, the model is untouched
        registry.write_record(run.name, record.replace(metrics={**record.metrics, "outside_writers": results["outside_writers"]}))
    if args.json:
        print(json.dumps({"name": run.name, **{k: v for k, v in results.items()}}))
        return 0
    labels = {"test": f"the {protocol} test set", "mnist_test": "the MNIST test set",
              "outside_writers": "pendigits' 14 test writers' pen digits"}
    for key, report in results.items():
        recorded = record.report(key).get("accuracy")
        loss = f", loss {report['loss']:.4f}" if "loss" in report else ""
        print(f"{run.name} on {labels[key]} ({report['count']} images): accuracy {_percent(report['accuracy'])}"
              f" (run.json: {_percent(recorded)}){loss}")
    if args.record_outside:
        print(f"recorded in {run.name}'s run.json: metrics.outside_writers")
    report = results["test"]
    print("\ndigit  precision  recall     f1  support")
    for row in report["per_class"]:
        print(f"{row['label']:>5}  {row['precision']:9.4f}  {row['recall']:6.4f}  {row['f1']:5.4f}  {row['support']:7d}")
    for kind in ("macro", "weighted"):
        avg = report[kind]
        print(f"{kind:>8}  {avg['precision']:6.4f}  {avg['recall']:6.4f}  {avg['f1']:5.4f}")
    print("\nconfusion matrix (rows: true digit, columns: predicted)")
    print("     " + " ".join(f"{j:>5}" for j in range(10)))
    for i, row in enumerate(report["confusion_matrix"]):
        print(f"{i:>4} " + " ".join(f"{v:>5}" for v in row))
    return 0


def cmd_models(args) -> int:
    if args.set_default:
        registry.set_default(args.set_default)
    runs, errors = registry.list_runs()
    if args.json:
        print(json.dumps([run.to_json() for run in runs], indent=1))
    else:
        if not runs:
            print(f"no runs in {registry.models_dir()}")
        for run in runs:
            info = run.to_json()
            print(f"{'*' if run.default else ' '} {run.name:<24} {run.status:<11} test {_percent(info['test_accuracy']):>7}"
                  f"  MNIST {_percent(info['mnist_test_accuracy']):>7}  pen {_percent(info['outside_writers_accuracy']):>7}"
                  f"  {info['params'] or 0:>10,} params")
    for name, error in errors:
        print(f"warning: skipped models/{name}: {error}", file=sys.stderr)
    return 0


def cmd_predict(args) -> int:
    from digitlab.imageio import ImageError, read_image
    from digitlab.inference import Predictor, read_picture

    predictor = Predictor.load(args.model)
    failures = 0
    for path in args.files:
        try:
            reading = read_picture(predictor, read_image(path), number=args.number)
        except ImageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failures += 1
            continue
        if args.number:
            result = {"file": path, "number": reading.number, "digits": [d.to_json() for d in reading.digits]}
        elif reading.empty:
            result = {"file": path, "digit": None, "confidence": None, "probabilities": None,
                      "message": "no digit found"}
        else:
            result = {"file": path, **reading.digits[0].to_json()}
        print(json.dumps(result), flush=True)
    return 1 if failures else 0


def cmd_benchmark(args) -> int:
    from digitlab import benchmark

    if not args.training_only:
        result = benchmark.inference(args.model, repeats=args.repeats, against=args.against,
                                     more_cuts_against=args.more_cuts_against)
        print(f"single drawing, model {result['model']}, median of {result['repeats']} interleaved runs:")
        for path, ms in result["median_ms"].items():
            print(f"  {path:<16} {ms:8.2f} ms")
        print(f"  Predictor is {result['predictor_speedup_vs_model_predict']:.0f}x faster than model.predict")
        if args.against:
            ratio = result["median_ms"][f"predictor ({args.against})"] / result["median_ms"]["predictor"]
            print(f"  {args.against}'s Predictor takes {ratio:.2f}x the time of {result['model']}'s")
        if args.more_cuts_against is not None:
            for name in ("touching pair", "touching triple"):
                other = result["median_ms"][f"{name} ({args.more_cuts_against} more cuts)"]
                print(f"  the {name} takes {result['median_ms'][name] / other:.2f}x the time it takes "
                      f"with {args.more_cuts_against} more cuts")
    if args.training or args.training_only:
        result = benchmark.training(args.arch, train_size=args.train_size, epochs=args.epochs, rounds=args.rounds)
        print(f"training {result['arch']} on {result['images']:,} images ({result['validation_images']:,} validating), "
              f"{result['epochs']} epochs, {result['precision']}; median of {result['rounds']} interleaved rounds:")
        for variant, seconds in result["seconds"].items():
            rate = result["images"] * result["epochs"] / seconds
            spread = result["all_seconds"][variant]
            print(f"  {variant:<34} {seconds:7.2f} s  ({rate:6.0f} training images/s, wall clock; "
                  f"rounds {min(spread):.2f}-{max(spread):.2f} s)")
        print(f"  live updates cost {100 * result['live_overhead_vs_plain_fit']:+.1f} % time against plain fit, "
              f"{100 * result['live_overhead_vs_engine']:+.1f} % against the engine without them "
              "(medians of the per-round ratios)")
        for variant, values in result["all_seconds"].items():
            print(f"    {variant:<32} " + " ".join(f"{v:6.2f}" for v in values))
    return 0


def cmd_realworld(args) -> int:
    from digitlab import realworld
    from digitlab.ensembles import Ensemble, TTAReader
    from digitlab.inference import Predictor

    samples = realworld.load_samples(Path(args.dir))
    if not samples:
        raise UserError(f"no samples listed in {args.dir}/*.csv")
    predictors = [Predictor.load(name) for name in args.models]
    readers = list(predictors)
    if (args.ensemble or args.ensemble_weights) and len(predictors) > 1:
        try:
            readers.append(Ensemble(predictors, args.ensemble_weights))
        except ValueError as exc:
            raise UserError(f"--ensemble-weights: {exc}") from None
    if args.tta:
        readers += [TTAReader(reader) for reader in list(readers)]
    mnist = data.mnist_test_set() if args.mnist else None
    # Real handwriting by writers outside the project, read one digit per picture.
    outside = {}
    loaders = {"semeion": lambda: realworld.load_semeion(Path(args.semeion) if args.semeion else None),
               "optdigits": lambda: realworld.load_optdigits(Path(args.dir)),
               "pendigits": realworld.load_pendigits}
    for name, load in loaders.items():
        if name in args.leave_out:
            continue
        try:
            outside[name] = load()
        except FileNotFoundError as exc:
            print(f"{exc}; its column is left out", file=sys.stderr)
    report = {}
    for reader in readers:
        report[reader.name] = realworld.evaluate_sets(reader, samples, all_as_numbers=args.as_numbers)
        for name, (pictures, labels) in outside.items():
            report[reader.name][name] = realworld.evaluate_pictures(reader, pictures, labels, as_numbers=args.as_numbers)
        if mnist is not None:
            images, labels = mnist
            start = time.perf_counter()
            predictions = reader.predict(images)
            reads = predictions.argmax(1)
            report[reader.name]["mnist-test"] = {
                "count": len(labels), "correct": int((reads == labels).sum()),
                "accuracy": float((reads == labels).mean()),
                "ms_per_image": 1000 * (time.perf_counter() - start) / len(labels),
                "errors": [{"index": i, "label": int(label), "read": int(read)}
                           for i, (label, read) in enumerate(zip(labels, reads)) if label != read],
            }
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    sets = sorted({s.set for s in samples}) + list(outside) + (["mnist-test"] if mnist is not None else [])
    counts = ({s: sum(x.set == s for x in samples) for s in sets} | {name: len(labels) for name, (_, labels) in outside.items()}
              | ({"mnist-test": 10_000} if mnist is not None else {}))
    print("| reader | " + " | ".join(f"{s} ({counts[s]})" for s in sets) + " |")
    print("|---" * (len(sets) + 1) + "|")
    for name, results in report.items():
        print(f"| {name} | " + " | ".join(_percent(results[s]["accuracy"]) for s in sets) + " |")
    for set_name in outside:
        title, owner = OUTSIDE_TITLES[set_name]
        print(f"\n{title} per digit:\n")
        print("| reader | " + " | ".join(str(d) for d in range(10)) + " |")
        print("|---" * 11 + "|")
        for name, results in report.items():
            print(f"| {name} | " + " | ".join(_percent(a) for a in results[set_name]["per_digit"]) + " |")
        if args.as_numbers:
            print("\nRead as two digits or more: " + ", ".join(f"{name} {results[set_name]['several_digits']}"
                                                        for name, results in report.items()))
        print(f"\n{owner} commonest misreadings (digit -> read as, how many):\n")
        for name, results in report.items():
            misreadings = realworld.commonest_misreadings(results[set_name]["errors"])
            print(f"- {name}: " + (", ".join(f"{label} -> {'no digit' if read == -1 else read} ({count})"
                                            for label, read, count in misreadings) or "none"))
    if mnist is not None:  # where one reader's extra MNIST errors lie: the digits it trades for outside writers'
        print("\nMNIST test's commonest misreadings (digit -> read as, how many):\n")
        for name, results in report.items():
            misreadings = realworld.commonest_misreadings(results["mnist-test"]["errors"])
            print(f"- {name}: " + (", ".join(f"{label} -> {read} ({count})" for label, read, count in misreadings) or "none"))
    return 0


OUTSIDE_TITLES = {"semeion": ("Semeion", "Semeion's"), "optdigits": ("optdigits", "optdigits'"),  # name, possessive
                  "pendigits": ("pendigits' test writers", "pendigits' test writers'")}


def cmd_papers(args) -> int:
    runs, _ = registry.list_runs()
    if args.json:
        print(json.dumps(papers.reproduction_rows(runs), indent=1))
    else:
        print(papers.reproduction_markdown(runs))
    return 0


def cmd_reproduce(args) -> int:
    reference_runs = presets.reference_runs()
    names = args.only or list(reference_runs)
    for name in names:
        if name not in reference_runs:
            raise UserError(f"{name!r} is not a reference run; choose from {', '.join(reference_runs)}")
    for name in names:
        argv = reference_runs[name]
        print("$ python -m digitlab " + shlex.join(argv), flush=True)
        if not args.dry_run:
            status = main(argv)
            if status:
                return status
    if presets.DEFAULT_RUN in names:
        print(f"$ python -m digitlab models --set-default {presets.DEFAULT_RUN}", flush=True)
        if not args.dry_run:
            registry.set_default(presets.DEFAULT_RUN)
    return 0


def cmd_export(args) -> int:
    from digitlab import exports

    try:
        result = exports.export_run(args.model, args.format, args.out)
    except exports.ExportError as exc:
        raise UserError(str(exc)) from None
    print(f"exported {result.name} to {result.path} ({result.bytes:,} bytes); read back by {result.runtime} on "
          f"{result.images:,} MNIST test digits: max probability difference {result.max_difference:.1e}, "
          f"same digit for {result.same_digit:,}/{result.images:,}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m digitlab", description="digitlab: CNNs on handwritten digits.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train an architecture and store the run in models/",
                                description="Train an architecture preset (its paper's knobs by default) and store the run.")
    train.add_argument("--arch", required=True, choices=list(presets.PRESETS), help="architecture preset")
    train.add_argument("--name", help="run name (default: ARCH-PROTOCOL-seedN)")
    for flag in CONFIG_FLAGS:
        if flag.switch:
            train.add_argument(flag.flag, dest=flag.field, action=argparse.BooleanOptionalAction, default=None,
                               help=flag.help or None)
        else:
            train.add_argument(flag.flag, dest=flag.field, type=flag.type, choices=flag.choices, help=flag.help or None,
                               nargs="*" if flag.many else None)
    train.add_argument("--dropout", type=float)
    train.add_argument("--dense-units", type=int, nargs="+")
    train.add_argument("--activation", choices=ACTIVATIONS)
    train.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, default=None)
    train.add_argument("--dense-batch-norm", action=argparse.BooleanOptionalAction, default=None,
                       help="BatchNorm between each dense layer and its activation (keeps ReLU units alive)")
    train.add_argument("--bn-momentum", type=float, help="decay of BatchNorm's running statistics (Keras: 0.99)")
    train.add_argument("--spec-json", metavar="JSON", help="a whole architecture spec (as in run.json) instead of the preset's")
    train.add_argument("--set-default", action="store_true", help="make this run the default model")
    train.set_defaults(func=cmd_train)

    evaluate = commands.add_parser("evaluate", help="re-evaluate a stored run on its test set",
                                   description="Accuracy, per-class P/R/F1 and the confusion matrix of a stored run.")
    evaluate.add_argument("--model", default="default", help="run name (default: the default model)")
    evaluate.add_argument("--json", action="store_true", help="print the full reports as JSON")
    evaluate.add_argument("--record-outside", action="store_true",
                          help="store the pen digits of writers outside MNIST's figure in run.json (runs trained before "
                               "training recorded it; the model file is not touched)")
    evaluate.set_defaults(func=cmd_evaluate)

    models = commands.add_parser("models", help="list the stored runs", description="List the runs in models/.")
    models.add_argument("--json", action="store_true", help="a JSON list: name, path, default, test_accuracy, ...")
    models.add_argument("--set-default", metavar="NAME", help="make NAME the default model first")
    models.set_defaults(func=cmd_models)

    predict = commands.add_parser("predict", help="read handwritten digits in image files",
                                  description="Print one JSON object per file: digit, confidence, probabilities "
                                              "(or with --number: the number and each digit).")
    predict.add_argument("files", nargs="+", metavar="FILE")
    predict.add_argument("--model", default="default", help="run name or a .keras file (loaded in safe mode)")
    predict.add_argument("--number", action="store_true", help="read several digits in a row as a number")
    predict.set_defaults(func=cmd_predict)

    bench = commands.add_parser("benchmark", help="side-by-side timings of prediction (and training)",
                                description="Median latency of one drawing through each prediction path; "
                                            "with --training, training throughput with and without the engine.")
    bench.add_argument("--model", default="default")
    bench.add_argument("--against", metavar="MODEL", help="also time this stored run's Predictor in the same rounds")
    bench.add_argument("--more-cuts-against", type=int, metavar="N",
                       help="also time the touching numbers read with N further cuts (0: the thinnest few only, "
                            "as before)")
    bench.add_argument("--repeats", type=int, default=30)
    bench.add_argument("--training", action="store_true", help="also time training")
    bench.add_argument("--training-only", action="store_true")
    bench.add_argument("--arch", default="paper-s-2", help="architecture for the training timing")
    bench.add_argument("--train-size", type=int, default=3000)
    bench.add_argument("--epochs", type=int, default=3, help="epochs per training timing")
    bench.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the training timings")
    bench.set_defaults(func=cmd_benchmark)

    real = commands.add_parser("realworld", help="accuracy on realistic handwriting (canvas, fonts, photos, numbers)",
                               description="Read every sample listed in the realistic sets' CSV manifests and "
                                           "print the accuracy per set and model.")
    real.add_argument("--models", nargs="+", default=["default"], metavar="NAME")
    real.add_argument("--dir", default=str(data.REALISTIC_SETS), help="a folder of realistic sets (CSV manifests)")
    real.add_argument("--json", action="store_true", help="per set: counts, accuracy and every misread file")
    real.add_argument("--ensemble", action="store_true", help="also read with the average of all --models")
    real.add_argument("--ensemble-weights", nargs="+", type=float, metavar="W",
                      help="also read with the weighted average of the --models (one weight each, in order)")
    real.add_argument("--tta", action="store_true",
                      help="also read each with test-time augmentation (1-pixel shifts, +-8 degree turns)")
    real.add_argument("--mnist", action="store_true", help="also score every reader on the 10,000 MNIST test images")
    real.add_argument("--as-numbers", action="store_true",
                      help="read single digits as numbers too (the Draw page's default): an extra digit is an error")
    real.add_argument("--semeion", metavar="NPZ", help="Semeion's file (default: $DIGITLAB_SEMEION, else beside MNIST's, "
                                                         "else ../shared/datasets/semeion.npz); measured, never trained on")
    real.add_argument("--leave-out", nargs="+", default=[], choices=["semeion", "optdigits", "pendigits"], metavar="SET",
                      help="outside writers' sets to leave out: semeion, optdigits (UCI's 8x8 digits, in --dir), "
                           "pendigits (UCI's 14 test writers' pen traces, drawn again)")
    real.set_defaults(func=cmd_realworld)

    paper = commands.add_parser("papers", help="the papers' reported figures beside the stored reference runs",
                                description="The reproduction table: each paper's figures beside our runs.")
    paper.add_argument("--json", action="store_true")
    paper.set_defaults(func=cmd_papers)

    reproduce = commands.add_parser("reproduce", help="retrain the reference runs stored in models/",
                                    description="Retrain the reference runs with the exact commands that made them.")
    reproduce.add_argument("--only", nargs="+", metavar="NAME", help=f"some of: {', '.join(presets.reference_runs())}")
    reproduce.add_argument("--dry-run", action="store_true", help="print the commands only")
    reproduce.set_defaults(func=cmd_reproduce)

    export = commands.add_parser("export", help="export a stored run to ONNX or LiteRT (.tflite), checked",
                                 description="Write a stored run as ONNX or LiteRT, read it back with its own runtime "
                                             "and keep it only if it predicts as the stored model on 1,000 MNIST test "
                                             "digits (max probability difference 1e-4).")
    export.add_argument("--model", default="default", help="run name (default: the default model)")
    export.add_argument("--format", required=True, choices=["onnx", "tflite"])
    export.add_argument("--out", required=True, metavar="PATH", help="file to write")
    export.set_defaults(func=cmd_export)
    return parser


def _clean_leftovers() -> None:
    """Remove temporaries that killed writes left in models/ (see registry.clean_leftovers)."""
    try:
        registry.clean_leftovers()
    except OSError:
        pass  # a read-only models folder: nothing can be left there to clean


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = argv
    _clean_leftovers()
    if args.func in (cmd_train, cmd_evaluate, cmd_predict, cmd_benchmark, cmd_realworld, cmd_export):
        start_tensorflow()
    try:
        return args.func(args)
    except (UserError, data.DataUnavailableError, registry.RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
