"""How many digits one piece of a row of ink holds (none, one, two, three): a small network taught on stroke-drawn pieces.

Width rules cannot tell a wide 0 from "00" or a dash from a 1 lying down; the number reader
asks this network instead. It sees a piece (the ink of one column group of `segment_digits`)
scaled to a fixed height, its proportions kept, and answers "mark" (a dot, a dash, a line:
no digit), or one, two or three digits. It is trained on pieces drawn by `strokes`' simulated
writers: single digits (ordinary and written wide), pairs and triples that touch or overlap,
and marks; `python -m digitlab.counting` retrains it and stores it with its record.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import cv2
import numpy as np

from digitlab import strokes

CLASSES = ("mark", "one", "two", "three")
HEIGHT, WIDTH = 32, 96  # the network's input: three square digits side by side
INK_HEIGHT = 24  # a piece is scaled to this height (or to fit the width), proportions kept
FOLDER = Path(__file__).resolve().parent.parent / "models" / ".counter"  # dot-named: not a run of the registry
MODEL_FILE, RECORD_FILE = "model.keras", "counter.json"
# Shares of the training pieces: (kind, share). Wide singles and touching pairs are where width rules fail.
MIX = (("single", 0.3), ("wide", 0.15), ("pair", 0.25), ("triple", 0.15), ("mark", 0.15))


def piece_input(ink: np.ndarray) -> np.ndarray:
    """(HEIGHT, WIDTH) float32 in [0, 1]: (h, w) uint8 white ink on black, cropped to its ink, scaled and centred."""
    rows = np.flatnonzero(ink.max(axis=1) >= 64)
    columns = np.flatnonzero(ink.max(axis=0) >= 64)
    out = np.zeros((HEIGHT, WIDTH), np.float32)
    if rows.size == 0:
        return out
    crop = ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    height, width = crop.shape
    scale = min(INK_HEIGHT / height, (WIDTH - 4) / width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    scaled = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    top, left = (HEIGHT - size[1]) // 2, (WIDTH - size[0]) // 2
    out[top : top + size[1], left : left + size[0]] = scaled / np.float32(max(1, int(scaled.max())))
    return out


def draw_piece(kind: str, r: np.random.Generator) -> tuple[np.ndarray, int]:
    """(h, w) uint8 white-on-black picture of one piece of `kind`, and its class index in CLASSES."""
    if kind == "mark":
        return strokes.draw_mark(str(r.choice(["dash", "dash", "dot", "line"])), r), 0
    if kind == "single":
        return strokes.draw_sample(strokes.STYLES[int(r.integers(len(strokes.STYLES)))], r), 1
    if kind == "wide":
        return strokes.draw_wide(int(r.integers(10)), r), 1
    count = 2 if kind == "pair" else 3
    digits = "".join(str(d) for d in r.integers(0, 10, count))
    # Touching, overlapping or leaning into each other's columns: what a column grouping keeps as one piece.
    return strokes.draw_number(digits, r, gap=float(r.uniform(-0.15, 0.04))), count


def make_pieces(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(count, HEIGHT, WIDTH) float32 pieces and (count,) int64 classes, always the same for `seed`."""
    r = np.random.default_rng(seed)
    kinds = [kind for kind, _ in MIX]
    shares = np.array([share for _, share in MIX])
    chosen = r.choice(len(kinds), size=count, p=shares / shares.sum())
    x = np.zeros((count, HEIGHT, WIDTH), np.float32)
    y = np.zeros(count, np.int64)
    for i, index in enumerate(chosen):
        picture, y[i] = draw_piece(kinds[index], r)
        x[i] = piece_input(picture)
    return x, y


def build_counter():
    import keras

    inputs = keras.Input((HEIGHT, WIDTH, 1))
    x = inputs
    for filters in (16, 32, 48):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(len(CLASSES), activation="softmax")(x)
    return keras.Model(inputs, outputs, name="digit_counter")


def train_counter(*, train_count: int = 24_000, held_out_count: int = 3_000, epochs: int = 6, seed: int = 0,
                  folder: Path = FOLDER) -> dict:
    """Train the counter on generated pieces, measure it on pieces from another seed, store both; the record."""
    import keras

    keras.utils.set_random_seed(seed)
    x, y = make_pieces(train_count, seed)
    x_held, y_held = make_pieces(held_out_count, 1_000_000 + seed)
    model = build_counter()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[..., None], y, batch_size=128, epochs=epochs, validation_split=0.1, verbose=2)
    predicted = model.predict(x_held[..., None], batch_size=500, verbose=0).argmax(axis=1)
    per_class = {name: float((predicted[y_held == k] == k).mean()) for k, name in enumerate(CLASSES)}
    record = {
        "command": "python -m digitlab.counting", "seed": seed, "train_count": train_count, "epochs": epochs,
        "mix": dict(MIX), "held_out": {"count": held_out_count, "seed": 1_000_000 + seed,
                                       "accuracy": float((predicted == y_held).mean()), "per_class": per_class},
        "history": {key: [float(v) for v in values] for key, values in history.history.items()},
    }
    folder.mkdir(parents=True, exist_ok=True)
    # Stored without optimizer state: a fresh, uncompiled copy holding the trained weights.
    stored = build_counter()
    stored.set_weights(model.get_weights())
    stored.save(folder / MODEL_FILE)
    (folder / RECORD_FILE).write_text(json.dumps(record, indent=1) + "\n")
    return record


class Counter:
    """The stored counter, loaded once and shared: `counts(pieces)` gives each piece's class probabilities."""

    _loaded: "Counter | None" = None
    _lock = threading.Lock()

    def __init__(self, model):
        import tensorflow as tf

        self.model = model
        spec = tf.TensorSpec([None, HEIGHT, WIDTH, 1], tf.float32)
        self._call = tf.function(lambda images: model(images, training=False), input_signature=[spec])

    @classmethod
    def load(cls, folder: Path = FOLDER) -> "Counter | None":
        """The stored counter, or None when there is none (the reader then falls back to its width rules)."""
        if not (folder / MODEL_FILE).is_file():
            return None
        with cls._lock:
            if cls._loaded is None or folder != FOLDER:
                import keras

                counter = cls(keras.saving.load_model(folder / MODEL_FILE, compile=False, safe_mode=True))
                if folder != FOLDER:
                    return counter
                cls._loaded = counter
            return cls._loaded

    def counts(self, pieces: list[np.ndarray]) -> np.ndarray:
        """(n, len(CLASSES)) float32 probabilities for n (h, w) uint8 pieces of white ink on black."""
        return self.counts_inputs(np.stack([piece_input(piece) for piece in pieces]))

    def counts_inputs(self, inputs: np.ndarray) -> np.ndarray:
        """(n, len(CLASSES)) float32 probabilities for (n, HEIGHT, WIDTH) float32 `piece_input`s."""
        return np.asarray(self._call(inputs[..., None].astype(np.float32)), dtype=np.float32)


if __name__ == "__main__":
    result = train_counter()
    print(json.dumps(result["held_out"], indent=1))
