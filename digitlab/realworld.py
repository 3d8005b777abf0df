"""Accuracy on realistic handwriting that MNIST is not: canvas drawings, handwriting fonts, photos, numbers."""

from __future__ import annotations

import csv
import os
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from digitlab.imageio import ImageError, read_image
from digitlab.inference import digit_probabilities, read_picture
from digitlab.preprocessing import preprocess_digit


@dataclass(frozen=True)
class Sample:
    path: Path
    set: str
    label: str  # a digit, or a whole number for the number sets
    style: str


def load_samples(folder: Path) -> list[Sample]:
    """Every sample listed in the folder's CSV manifests (columns file, set, label, font, notes)."""
    samples = []
    for manifest in sorted(folder.glob("*.csv")):
        with manifest.open(newline="") as f:
            for row in csv.DictReader(f):
                samples.append(Sample(folder / row["file"], row["set"], row["label"], row.get("font", "")))
    return samples


def is_number_set(name: str) -> bool:
    return "number" in name


def evaluate_sets(predictor, samples: list[Sample], *, all_as_numbers: bool = False) -> dict[str, dict]:
    """Per set: count, correct, accuracy and the misread files (file, label, read).

    Number sets count a sample right only when every digit is read and nothing is added.
    `all_as_numbers` reads the single-digit sets as numbers too, as the Draw page does by
    default, so a stray mark read as an extra digit counts as wrong.
    """
    results: dict[str, dict] = defaultdict(lambda: {"count": 0, "correct": 0, "errors": []})
    for sample in samples:
        result = results[sample.set]
        result["count"] += 1
        try:
            as_number = all_as_numbers or is_number_set(sample.set)
            reading = read_picture(predictor, read_image(sample.path), number=as_number)
            read = reading.number or ""
        except ImageError as exc:
            read = f"unreadable: {exc}"
        if read == sample.label:
            result["correct"] += 1
        else:
            result["errors"].append({"file": str(sample.path.name), "label": sample.label, "read": read,
                                     "style": sample.style})
    for result in results.values():
        result["accuracy"] = result["correct"] / result["count"]
    return dict(results)


# Semeion: real digits by about 80 mostly Italian writers (see ../shared/datasets/README.md),
# for measuring only: never trained or tuned on.
SEMEION_ENV_VAR = "DIGITLAB_SEMEION"
SEMEION_ZOOM = 4  # each 16x16 scan pixel becomes a 4x4 block: a 64x64 picture of the scan, as a user would upload it


def semeion_path() -> Path:
    """`$DIGITLAB_SEMEION`, else semeion.npz beside `$DIGITLAB_MNIST`, else ../shared/datasets/semeion.npz."""
    if os.environ.get(SEMEION_ENV_VAR):
        return Path(os.environ[SEMEION_ENV_VAR])
    mnist = os.environ.get("DIGITLAB_MNIST")
    if mnist and (Path(mnist).parent / "semeion.npz").is_file():
        return Path(mnist).parent / "semeion.npz"
    return Path(__file__).resolve().parents[2] / "shared" / "datasets" / "semeion.npz"  # a checkout beside shared/


def load_semeion(path: Path | None = None):
    """((n, 64, 64) uint8 pictures, dark ink on white paper, (n,) uint8 labels) of Semeion's scans.

    Semeion stored each digit stretched to fill 16x16 and thresholded; the scan is enlarged
    (nearest neighbour, as an image viewer shows it) and read like any uploaded picture.
    """
    path = path or semeion_path()
    if not path.is_file():
        raise FileNotFoundError(f"Semeion not found at {path} (set ${SEMEION_ENV_VAR})")
    with np.load(path) as f:
        scans, labels = f["x"], f["y"]
    pictures = np.where(scans > 0, 0, 255).astype(np.uint8)
    pictures = pictures.repeat(SEMEION_ZOOM, axis=1).repeat(SEMEION_ZOOM, axis=2)
    return pictures, labels


# UCI's optdigits test set: 1,797 digits by 13 writers (Alpaydin and Kaynak, 1998), each a 32x32
# black-and-white bitmap stretched to its box and reduced to 8x8 counts of ink pixels (0-16).
# Kept in the realistic sets' folder (tests/realistic/optdigits/README.md); measured, never trained on.
OPTDIGITS_FILE = Path("optdigits") / "optdigits-test.csv.gz"


def load_optdigits(folder: Path):
    """((n, 8, 8) uint8 pictures, dark ink on white paper, (n,) uint8 labels) of optdigits' test set in `folder`.

    Each count of 16 becomes black and 0 white, and the 8x8 picture is read like any uploaded
    one: the smallest picture the app is asked to read.
    """
    path = Path(folder) / OPTDIGITS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"optdigits not found at {path}")
    rows = np.loadtxt(path, delimiter=",", dtype=np.int64)
    counts, labels = rows[:, :64].reshape(-1, 8, 8), rows[:, 64]
    return (255 - np.round(counts * 255 / 16)).astype(np.uint8), labels.astype(np.uint8)


def load_pendigits():
    """([(h, w) uint8 pictures, white ink on black], (n,) uint8 labels): every trace of UCI pendigits' 14 test writers.

    Each trace drawn once by a random hand and way onto paper (`pentraces.each_trace_picture`:
    an even pen, a pen following the hand's pressure, or a coarse scan); no fives or sevens
    (their traces join the pen's lifts). The vendored traces ship with the code, so this set is
    always there.
    """
    from digitlab import pentraces

    return pentraces.each_trace_picture("test", pentraces.HELD_OUT_SEED)


@dataclass(frozen=True)
class Prepared:
    """Pictures of single digits as the model sees them, prepared once for any number of readers."""

    images: np.ndarray  # (n, 28, 28) float32 in [0, 1]
    empty: np.ndarray  # (n,) bool: no digit found in the picture
    labels: np.ndarray  # (n,) int64
    unboxed: tuple = ()  # n times None, or (28, 28) float32 for a digit filling its picture (`Preprocessed.unboxed`)

    def probabilities(self, predict) -> np.ndarray:
        """(n, 10) probabilities by `predict` ((m, 28, 28) float32 -> (m, 10)), read as the app reads each picture."""
        return digit_probabilities(predict, self.images, self.unboxed or [None] * len(self.images))


def prepare(pictures, labels) -> Prepared:
    """(n, h, w) uint8 pictures of one digit each, and their (n,) labels, through the app's preprocessing."""
    steps = [preprocess_digit(picture) for picture in pictures]
    return Prepared(np.stack([s.image for s in steps]), np.array([s.empty for s in steps]),
                    np.asarray(labels).astype(np.int64), tuple(s.unboxed for s in steps))


def score(reader, prepared: Prepared) -> dict:
    """Count, correct, accuracy, per-digit accuracy and errors of `reader` on prepared digits.

    A picture read as no digit counts as wrong (read -1).
    """
    reads = np.where(prepared.empty, -1, prepared.probabilities(reader.predict).argmax(axis=1))
    return _tally(prepared.labels, [int(read) for read in reads])


def _tally(labels: np.ndarray, reads: list) -> dict:
    """Count, correct, accuracy, per-digit accuracy and errors of (n,) int `labels` read as `reads`."""
    right = np.array([read == label for read, label in zip(reads, labels)], bool)
    per_digit = [float(right[labels == d].mean()) if (labels == d).any() else None for d in range(10)]
    errors = [{"index": int(i), "label": int(labels[i]), "read": reads[i]} for i in np.flatnonzero(~right)]
    return {"count": int(len(labels)), "correct": int(right.sum()), "accuracy": float(right.mean()),
            "per_digit": per_digit, "errors": errors}


def evaluate_pictures(reader, pictures, labels, *, as_numbers: bool = False) -> dict:
    """Single digits read as the Draw page reads one (`score` of `prepare`d pictures); `pictures` are (n, h, w) uint8.

    `as_numbers`: read as the Draw page reads by default, as a number; an error's "read" is then
    the number as a string when the digit came back as several ("91").
    """
    if not as_numbers:
        return score(reader, prepare(pictures, labels))
    numbers = [read_picture(reader, picture, number=True).number or "" for picture in pictures]
    reads = [-1 if not number else int(number) if len(number) == 1 else number for number in numbers]
    return _tally(np.asarray(labels).astype(np.int64), reads) | {"several_digits": sum(len(n) > 1 for n in numbers)}


@lru_cache(maxsize=1)
def _pendigits_prepared() -> Prepared:
    return prepare(*load_pendigits())  # 5 s of drawing and preprocessing: once per process


def outside_writers_report(predict) -> dict:
    """What every run records beside its MNIST figures: its reading of pendigits' 14 test writers' pen digits.

    The pen digits a class draws are not MNIST's: this is the figure a teacher choosing a reader
    for a class that draws should see beside MNIST's (`OUTSIDE_WRITERS["pendigits"]` says whose
    they are). It ships with the code, so every run on every machine has it. `predict` maps
    (n, 28, 28, 1) float32 in [0, 1] to (n, 10) probabilities.
    """
    prepared = _pendigits_prepared()
    reads = np.where(prepared.empty, -1, prepared.probabilities(lambda images: predict(images[..., None])).argmax(axis=1))
    tally = _tally(prepared.labels, [int(read) for read in reads])
    return {"set": "pendigits", **{key: tally[key] for key in ("count", "correct", "accuracy", "per_digit")}}


# Who wrote each outside set, for the pages.
OUTSIDE_WRITERS = {
    "optdigits": "1,797 digits by 13 writers at a Turkish university, 8×8 pictures (UCI optdigits)",
    "pendigits": "2,799 pen digits by 14 writers in Istanbul, traced on a tablet and drawn again with a pen or as a "
                 "scan, no fives or sevens (UCI pendigits' test writers; digitlab-traces' share was chosen on them)",
    "semeion": "1,593 digits by about 80 mostly Italian writers, 16×16 scans (Semeion)",
}


def outside_sets(folder: Path) -> dict[str, Prepared]:
    """The outside writers' digits found here, prepared: optdigits from `folder`, pendigits' test writers, and
    Semeion where `semeion_path` finds it."""
    found = {}
    for name, load in (("optdigits", lambda: load_optdigits(folder)), ("pendigits", load_pendigits),
                       ("semeion", load_semeion)):
        try:
            found[name] = prepare(*load())
        except FileNotFoundError:
            continue
    return found


def outside_rows(scores: dict[str, dict[str, dict]]) -> tuple[list[dict], dict[str, list[dict]]]:
    """From {run: {set: `score`}}: one row per run with its accuracy in % on each set, and per set one
    row per run with its accuracy in % on each digit (keys "0" to "9")."""
    sets = sorted({name for per_set in scores.values() for name in per_set})
    summary = [{"run": run, **{name: 100 * per_set[name]["accuracy"] for name in sets if name in per_set}}
               for run, per_set in scores.items()]
    per_digit = {name: [{"run": run, **{str(d): 100 * a for d, a in enumerate(per_set[name]["per_digit"]) if a is not None}}
                        for run, per_set in scores.items() if name in per_set] for name in sets}
    return summary, per_digit


def commonest_misreadings(errors: list[dict], top: int = 8) -> list[tuple[int, int | str, int]]:
    """(label, read, count) of the `top` most frequent misreadings among `evaluate_pictures`' errors.

    A read of -1 is "no digit". Ties keep the smaller label first, so the list is the same every run.
    """
    counts = Counter((error["label"], error["read"]) for error in errors)
    # A read is a digit, -1, or (read as a number) several digits as a string: compared as text on ties.
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0][0], str(item[0][1])))
    return [(label, read, count) for (label, read), count in ranked[:top]]
