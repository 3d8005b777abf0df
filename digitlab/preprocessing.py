"""From a canvas drawing or an uploaded image to the centred 28×28 pictures an MNIST model expects, every step kept."""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

SIDE = 28  # MNIST's pictures are 28×28 ...
DIGIT_SIDE = 20  # ... with the digit's longest side scaled to 20 px ...
CENTRE = SIDE / 2  # ... and its centre of mass at pixel (14, 14), where MNIST's sit (14.0 ± 0.3).
PEN_WIDTH = 2.3  # MNIST's stroke width in px at that scale; downscaled canvas strokes are about 1.6.
MIN_CONTRAST = 0.2  # ink is at least this much (of black-to-white) darker or lighter than the paper
SPECK_FRACTION = 0.0002  # ink blobs smaller than this share of the picture are dust, noise or stray clicks
MIN_SPECK_PIXELS = 2  # a lone pixel is never a digit, even in a 28×28 picture
OVERLAP = 0.5  # blobs sharing this much of the narrower one's columns are parts of one digit (a 5's bar)
NEAR_DIGIT = 0.3  # in a photo, blobs this share of the digit's size away from it are still part of it
NEAR_ROW = 1.0  # ... and digits of a number at most this share of its height apart ...
SAME_PEN = 0.4  # ... with strokes at least this share of the first digit's as wide
TOUCHING_ASPECT = 1.2  # ink wider than this times its height may be several touching digits
SPLIT_ASPECT = 0.75  # a piece wider than this times its height may be digits that touch: the reader tries cuts
SPLIT_CUTS = 3  # cut columns tried first per piece, the thinnest places
MORE_CUTS = 40  # `split_candidates(more=True)`: further cuts at every other thin place (in effect all of them)
MORE_CUTS_SPACING = 0.05  # of the piece's width between two of those: neighbouring cuts give the same parts
MORE_TRIPLES = 10  # `split_candidates(more=3)`: the pairs of those cuts crossing the least ink, as three parts
FRAME_MARGIN = 0.02  # ink this close (a share of the side, at least 2 px) to all four edges fills its picture ...
FILLED_ASPECT = 1.25  # ... and no wider than this times its height, it is one digit: a form's box holds one
UNBOXED_ASPECT = 0.75  # such a digit is also read squeezed to this width over height, handwriting's usual one
MAX_DIGITS = 12  # a picture with more pieces than this holds no number (a phone number has at most 12 digits)
DOT_PENS = 2.5  # a piece at most this many pen widths across is a dot
DASH_PENS = 2.5  # a piece at most this many pen widths tall ...
MARK_SHORT = 0.5  # ... and at most this share of its width, is a dash or a line; so is ...
MARK_FLAT = 0.3  # ... a single stroke (every column crosses it once) at most this share of its width tall
TINY_DIGIT = 0.25  # a group smaller than this share of the tallest digit is a dot or a speck, not a digit
BACKGROUND_SIDE = 256  # the paper's lighting is estimated on a copy at most this big, for speed ...
PAPER_KERNEL = 4  # ... through a window a quarter of its side: wider than any stroke
STROKE_SIDE = 100  # stroke width is measured and corrected on a copy at most this big, for speed
LINE_KERNEL = 8  # a paper's ruled, grid or margin line runs straight for more than 1/8 of the picture ...
LINE_LENGTH = 0.5  # ... and spans at least half of it, which a digit's stroke rarely does ...
LINE_THICKNESS = 0.015  # ... while being at most this share of the picture's shorter side thick
FRAME_DISAGREES = 32  # gray levels between the picture's median and its frame's that say the median is ink
FRAME_EVEN = 0.7  # ... when this share of the frame lies within ...
FRAME_EVEN_LEVELS = 8  # ... this many gray levels of its median
SMALL_PICTURE = 128 * 128  # pictures up to this many pixels may be a digit with hardly any paper ...
RARE_LEVEL = 0.05  # ... and a median level held by less than this share of them is no paper
FLAT_SHARE = 0.2  # a picture is clean (one paper level) when this share of it lies at the paper's level ...
FLAT_FRAME = 0.6  # ... and this share of its outermost pixels do
SOLID_SIDE = 0.05  # ink holding squares this share of the shorter side is no pen stroke: a desk, a shadow ...
SOLID_AREA = 0.01  # ... and when at least this share of the picture touches its edge, it is background
PEN_LIKE = (0.5, 3.5)  # ... unless about as thick as the pen of the ink left (a sliver of a stroke is thinner): a stroke
BODY_SHARE = 0.2  # ... and touching a piece holding this share of that ink, not a stub or a speck
MAX_PEN = 0.15  # with little other ink, a mark this share of the picture's longer side thick may still be a stroke
LITTLE_LEFT = 0.1  # ... little: less than this share of the marks' area ...
SOLID_FILL = 0.6  # ... or however thick, when it fills at most this share of its box: a desk fills all of it
SMALL_SIDE = 32  # a picture whose longer side is under this many pixels (a thumbnail, a form's cell) ...
READ_SIDE = 64  # ... is enlarged smoothly to this first: every threshold here needs strokes a few pixels wide


@dataclass(frozen=True)
class Preprocessed:
    """One digit on its way from the input to the model, every step kept so a page can show it."""

    raw: np.ndarray  # (h, w, 4) uint8 RGBA, the input as read (a small picture enlarged, `_as_read`)
    gray: np.ndarray  # (h, w) uint8, white ink on black; paper, lighting and specks removed
    cropped: np.ndarray  # (ch, cw) uint8, `gray` inside `box`, this digit's ink only
    scaled: np.ndarray  # (sh, sw) uint8, strokes widened to MNIST's pen, longest side 20 px
    image: np.ndarray  # (28, 28) float32 in [0, 1], centre of mass at the centre: what the model sees
    box: tuple[int, int, int, int]  # (x, y, w, h) of the digit's ink in `raw`; (0, 0, 0, 0) when empty
    empty: bool  # no ink worth reading: `image` is all zeros, `cropped` and `scaled` are (0, 0)
    scale: float = 1.0  # pixels of `raw` per pixel of the input: `box` / `scale` is in the input's pixels
    # (28, 28) float32 in [0, 1], or None: a digit filling its whole picture (`fills_its_frame`) squeezed
    # to UNBOXED_ASPECT, the aspect its box took from it; readers average it with `image`
    unboxed: np.ndarray | None = None


@dataclass(frozen=True)
class _Ink:
    raw: np.ndarray  # (h, w, 4) uint8 RGBA
    gray: np.ndarray  # (h, w) uint8, white ink on black, specks removed
    labels: np.ndarray  # (h, w) int32, connected-component label of every pixel
    stats: np.ndarray  # (n, 5) int32, cv2.connectedComponentsWithStats rows, indexed by label
    ids: np.ndarray  # (k,) labels of the blobs kept as ink
    photo: bool  # the paper was uneven (a photo or a scan), not one flat level (a canvas, a digital image)
    scale: float  # pixels of `raw` per pixel of the input


def preprocess_digit(rgba) -> Preprocessed:
    """Read all the ink of a (h, w, 4) uint8 RGBA picture, e.g. a canvas or `read_image`'s output, as one digit.

    (h, w) grayscale and (h, w, 3) RGB uint8 arrays are accepted too.
    """
    ink = _find_ink(rgba)
    if ink.ids.size == 0:
        return _empty(ink)
    # A photo keeps bits of the paper's lines and specks that no cleaning catches; they lie away
    # from the digit and would shrink it to a dot in a box stretched to reach them.
    ids = _main_digit(ink) if ink.photo else ink.ids
    boxes = ink.stats[ids]
    left, top = boxes[:, cv2.CC_STAT_LEFT].min(), boxes[:, cv2.CC_STAT_TOP].min()
    right = (boxes[:, cv2.CC_STAT_LEFT] + boxes[:, cv2.CC_STAT_WIDTH]).max()
    bottom = (boxes[:, cv2.CC_STAT_TOP] + boxes[:, cv2.CC_STAT_HEIGHT]).max()
    box = (int(left), int(top), int(right - left), int(bottom - top))
    cropped = ink.gray[top:bottom, left:right]
    if ids.size < ink.ids.size:
        cropped = np.where(np.isin(ink.labels[top:bottom, left:right], ids), cropped, 0).astype(np.uint8)
    digit = _normalise(ink, box, cropped)
    if fills_its_frame([digit]) and cropped.shape[1] > UNBOXED_ASPECT * cropped.shape[0]:
        digit = replace(digit, unboxed=_squeezed(cropped, UNBOXED_ASPECT))
    return digit


def segment_digits(rgba, *, split: bool = True) -> list[Preprocessed]:
    """The digits written in a row in a (h, w, 4) uint8 RGBA picture, left to right; [] when there is no ink.

    With `split=False` every group of blobs sharing columns stays one piece, however wide, for
    a reader that decides itself how many digits a piece holds (`digitlab.counting`).

    Blobs that share columns are one digit (a 5's detached bar, a broken stroke); ink much
    wider than tall is cut where a single thin stroke joins two digits; dots and specks far
    smaller than the tallest digit are dropped. Each digit is then normalised as in
    `preprocess_digit`, and shares `raw` and `gray` with the others.
    """
    ink = _find_ink(rgba)
    pieces = []  # ((x, y, w, h), (h, w) uint8 ink of that digit only)
    for ids, left, right in _column_groups(ink):
        boxes = ink.stats[ids]
        top = boxes[:, cv2.CC_STAT_TOP].min()
        bottom = (boxes[:, cv2.CC_STAT_TOP] + boxes[:, cv2.CC_STAT_HEIGHT]).max()
        members = np.isin(ink.labels[top:bottom, left:right], ids)
        group = np.where(members, ink.gray[top:bottom, left:right], 0).astype(np.uint8)
        if is_mark(group):
            continue
        if split:
            pieces += _split_touching(group, int(left), int(top))
        else:
            pieces.append(((int(left), int(top), int(right - left), int(bottom - top)), group))
    if not pieces:
        return []
    if ink.photo:
        pieces = _main_row(pieces)
    tallest = max(box[3] for box, _ in pieces)
    digits = [(box, digit) for box, digit in pieces if max(box[2], box[3]) >= TINY_DIGIT * tallest]
    if len(digits) > MAX_DIGITS:
        return []  # no number is this long: hatching, a scribble or a row of marks, not digits
    return [_normalise(ink, box, digit) for box, digit in sorted(digits, key=lambda piece: piece[0][0])]


def fills_its_frame(pieces: list[Preprocessed]) -> bool:
    """Whether the ink of `pieces` (of one picture, `segment_digits`) reaches all four edges of a near-square picture.

    A digit cut from a form's box, or scanned stretched to fill it, does; a number written on a
    canvas or paper leaves margins, and a number cropped tight is wider than tall.
    """
    if not pieces:
        return False
    height, width = pieces[0].raw.shape[:2]
    left = min(piece.box[0] for piece in pieces)
    top = min(piece.box[1] for piece in pieces)
    right = max(piece.box[0] + piece.box[2] for piece in pieces)
    bottom = max(piece.box[1] + piece.box[3] for piece in pieces)
    margin_x, margin_y = max(2.0, FRAME_MARGIN * width), max(2.0, FRAME_MARGIN * height)
    reaches_edges = left <= margin_x and top <= margin_y and width - right <= margin_x and height - bottom <= margin_y
    return reaches_edges and right - left <= FILLED_ASPECT * (bottom - top)


def is_mark(ink: np.ndarray) -> bool:
    """Whether (h, w) uint8 ink (one piece of a row) is a mark no digit makes: a dot, a dash or a line.

    A dot is hardly bigger than the pen that made it; a dash or a line is one stroke lying down:
    much wider than tall, and no taller than a couple of pen widths or crossed only once by
    every column (a 7's bar or a 5's flag comes with the rest of its digit, which is tall).
    """
    rows = np.flatnonzero(ink.any(axis=1))
    columns = np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return True
    height, width = rows[-1] + 1 - rows[0], columns[-1] + 1 - columns[0]
    pen = max(_stroke_width(ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]), 1.0)
    is_dot = max(height, width) <= DOT_PENS * pen
    crop = ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1] > 0
    one_stroke = (np.count_nonzero(crop[1:] & ~crop[:-1], axis=0) + crop[0]).max() <= 1
    lying = height <= DASH_PENS * pen and height <= MARK_SHORT * width
    is_dash = lying or (one_stroke and height <= MARK_FLAT * width)
    return is_dot or is_dash


def _main_row(pieces: list) -> list:
    """The pieces in the row of the inkiest one: level with the row and at most NEAR_ROW of its height away.

    In a photo, bits of lines and dirt the cleaning missed lie above, below or far beside the
    number; read as digits they would turn a photographed 3 into "3111".
    """
    boxes = np.array([(x, y, x + w, y + h) for (x, y, w, h), _ in pieces], np.int64)
    inkiest = int(np.argmax([np.count_nonzero(digit) for _, digit in pieces]))
    # The same pen wrote every digit; a hairline (the sheet's edge, a line's stub) is no digit.
    pen = _stroke_width(pieces[inkiest][1])
    penned = np.array([_stroke_width(digit) >= SAME_PEN * pen for _, digit in pieces])

    def joins(left, top, right, bottom):
        gap_x, _ = _gaps(boxes, left, top, right, bottom)
        overlap = np.minimum(bottom, boxes[:, 3]) - np.maximum(top, boxes[:, 1])
        level = overlap >= 0.5 * np.minimum(boxes[:, 3] - boxes[:, 1], bottom - top)
        return level & (gap_x <= NEAR_ROW * (bottom - top)) & penned

    chosen = _grow(boxes, inkiest, joins)
    return [piece for piece, keep in zip(pieces, chosen) if keep]


def split_candidates(digit: Preprocessed, *, more: int = 0) -> list[list[Preprocessed]]:
    """Ways to read one wide piece of a number as two or three digits, each a list left to right.

    `segment_digits` cuts only where a single thin stroke joins two digits; digits that
    touch along a curve, or lean into each other's columns, stay one piece. The reader
    (`inference.read_picture`) asks the model which reading is likelier. Tried: the
    piece's separate blobs, cuts at the few columns crossing the least ink, and for very
    wide pieces three parts. With `more` (2 or 3), only further ways into that many parts:
    cuts at every other column that crosses less ink than its neighbours (a few pixels apart
    at least), for three parts the pairs of such columns crossing the least ink. Parts
    shorter than 40 % of the piece are dropped as readings.
    """
    crop = digit.cropped
    if digit.empty or crop.shape[1] < SPLIT_ASPECT * crop.shape[0]:
        return []
    height, width = crop.shape
    inked = crop > 0
    options = []
    count, labels, stats, _ = cv2.connectedComponentsWithStats(inked.astype(np.uint8), connectivity=8)
    tall = [i for i in range(1, count) if stats[i, cv2.CC_STAT_HEIGHT] >= 0.5 * height]
    if 2 <= len(tall) <= 3 and not more:
        centres = np.array([stats[i, cv2.CC_STAT_LEFT] + stats[i, cv2.CC_STAT_WIDTH] / 2 for i in tall])
        owner = np.zeros(count, int)
        for i in range(1, count):  # a small blob (a bar, a dot) goes with the nearest tall one
            owner[i] = int(np.argmin(abs(centres - (stats[i, cv2.CC_STAT_LEFT] + stats[i, cv2.CC_STAT_WIDTH] / 2))))
        order = np.argsort(centres)
        options.append([np.where(owner[labels] == k, crop, 0) * inked for k in order])
    crossings = np.count_nonzero(inked[1:] & ~inked[:-1], axis=0) + inked[0]
    cost = crossings * (height + 1) + np.count_nonzero(inked, axis=0)
    margin = max(1, round(0.2 * width))
    inner = np.arange(margin, width - margin)
    if inner.size:
        # Local minima only: neighbouring columns of one thin place are one cut.
        minima = [c for c in inner if cost[c] <= cost[c - 1] and cost[c] <= cost[min(c + 1, width - 1)]]
        thinnest = sorted(minima, key=lambda c: cost[c])
        cuts = thinnest[:SPLIT_CUTS]
        if more:
            cuts, further = [], cuts
            for column in thinnest[SPLIT_CUTS:]:
                if len(cuts) < MORE_CUTS and all(abs(column - cut) >= MORE_CUTS_SPACING * width for cut in cuts + further):
                    cuts.append(column)
        columns = np.arange(width)
        if more == 3:
            every = sorted(cuts + further, key=lambda c: cost[c])
            pairs = sorted(((a, b) for a in every for b in every if b - a >= 0.2 * width),
                           key=lambda pair: cost[pair[0]] + cost[pair[1]])[:MORE_TRIPLES]
            options += [[np.where(columns < a, crop, 0), np.where((columns >= a) & (columns < b), crop, 0),
                         np.where(columns >= b, crop, 0)] for a, b in pairs]
        else:
            options += [[np.where(columns < cut, crop, 0), np.where(columns >= cut, crop, 0)] for cut in cuts]
    if width >= 1.5 * height and not more:
        first = margin + int(np.argmin(cost[margin : width // 2])) if width // 2 > margin else None
        second = width // 2 + int(np.argmin(cost[width // 2 : width - margin])) if width - margin > width // 2 else None
        if first is not None and second is not None:
            columns = np.arange(width)
            options.append([np.where(columns < first, crop, 0), np.where((columns >= first) & (columns < second), crop, 0),
                            np.where(columns >= second, crop, 0)])
    pieces = []
    for parts in options:
        made = [_part(digit, part.astype(np.uint8), height) for part in parts]
        if all(piece is not None for piece in made):
            pieces.append(made)
    return pieces


def join_pieces(left: Preprocessed, right: Preprocessed) -> Preprocessed:
    """Two pieces of one picture's row (`segment_digits`) read as one digit: their ink in the box holding both."""
    x0, y0 = min(left.box[0], right.box[0]), min(left.box[1], right.box[1])
    x1 = max(left.box[0] + left.box[2], right.box[0] + right.box[2])
    y1 = max(left.box[1] + left.box[3], right.box[1] + right.box[3])
    cropped = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for piece in (left, right):
        x, y, w, h = piece.box
        window = cropped[y - y0 : y - y0 + h, x - x0 : x - x0 + w]
        np.maximum(window, piece.cropped, out=window)
    scaled = _fit(_with_mnist_pen(cropped), DIGIT_SIDE)
    return Preprocessed(left.raw, left.gray, cropped, scaled, _centre_by_mass(scaled),
                        (int(x0), int(y0), int(x1 - x0), int(y1 - y0)), empty=False, scale=left.scale)


def _part(parent: Preprocessed, ink: np.ndarray, height: int) -> Preprocessed | None:
    """One part of a split piece (ink the size of the parent's crop) as a digit of its own; None if too small."""
    rows = np.flatnonzero(ink.any(axis=1))
    columns = np.flatnonzero(ink.any(axis=0))
    if rows.size == 0 or rows[-1] + 1 - rows[0] < 0.4 * height:
        return None
    cropped = ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    x, y = parent.box[0] + int(columns[0]), parent.box[1] + int(rows[0])
    scaled = _fit(_with_mnist_pen(cropped), DIGIT_SIDE)
    return Preprocessed(parent.raw, parent.gray, cropped, scaled, _centre_by_mass(scaled),
                        (x, y, cropped.shape[1], cropped.shape[0]), empty=False, scale=parent.scale)


def _find_ink(rgba) -> _Ink:
    """The ink of any picture as white on black, whatever its paper, pen, lighting or transparency."""
    raw, scale = _as_read(_as_rgba(rgba))
    luminance = _flatten_alpha(raw)
    histogram = np.bincount(luminance.ravel(), minlength=256)
    paper = _level(histogram, 0.5)
    # A thick digit in a tight crop can be more than half of its picture, and the median is then
    # ink; the picture's frame is still mostly paper, of one level. (A photo's frame is often a
    # desk, a shadow or a vignette: uneven, and darker than the paper the median finds.)
    frame = np.concatenate([luminance[0], luminance[-1], luminance[1:-1, 0], luminance[1:-1, -1]])
    frame_paper = int(np.median(frame))
    even_frame = np.mean(np.abs(frame.astype(np.int16) - frame_paper) <= FRAME_EVEN_LEVELS) >= FRAME_EVEN
    filled = False  # a small clean picture that its digit fills, paper and ink joined by ramps
    if abs(frame_paper - paper) > FRAME_DISAGREES and even_frame:
        paper = frame_paper
    elif luminance.size <= SMALL_PICTURE and histogram[max(paper - 2, 0) : paper + 3].sum() < RARE_LEVEL * luminance.size:
        # A small picture whose median is a level few pixels hold (a ramp between ink and paper,
        # as in an enlarged scan filled by its digit): the paper is whichever end the frame is nearer.
        ends = (_level(histogram, 0.01), _level(histogram, 0.99))
        near = [np.mean(np.abs(frame.astype(np.int16) - end) <= FRAME_EVEN_LEVELS * 2) for end in ends]
        paper = ends[int(np.argmax(near))]
        filled = True
    # The ink is the tail that reaches further from the paper; ink on gray paper can be darker
    # than the paper and still below mid-gray, so a fixed 128 would misjudge it.
    ink_is_dark = paper - _level(histogram, 0.005) > _level(histogram, 0.995) - paper
    at_paper = (luminance >= paper - 2) & (luminance <= paper + 2)
    # A digit filling a small clean picture (a tight crop, an enlarged scan) leaves less than half
    # of it paper; its frame is still mostly paper, where a photo's noise never holds one level.
    frame = np.concatenate([at_paper[0], at_paper[-1], at_paper[1:-1, 0], at_paper[1:-1, -1]])
    # A thick digit enlarged to fill its picture leaves hardly any pixel at the paper's exact
    # level, yet it is as clean as a canvas: a photo's noise never makes such a ramp.
    flat_paper = (at_paper.mean() >= 0.5 or (at_paper.mean() >= FLAT_SHARE and frame.mean() >= FLAT_FRAME)
                  or filled)
    if flat_paper:
        # A canvas or a clean digital image: the paper is one level, ink is whatever departs from it.
        away_from_paper = (luminance.astype(np.float32) - paper) * (-1 / 255 if ink_is_dark else 1 / 255)
        strength, threshold = np.clip(away_from_paper, 0, 1), MIN_CONTRAST
    else:
        strength, threshold = _photo_ink(luminance if ink_is_dark else 255 - luminance)

    is_ink = (strength >= threshold).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(is_ink, connectivity=8)
    min_area = max(MIN_SPECK_PIXELS, SPECK_FRACTION * luminance.size)
    ids = 1 + np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= min_area)
    is_kept = np.zeros(count, bool)
    is_kept[ids] = True
    kept = is_kept[labels]
    # Full strength for the ink's body whatever the pen's colour or the lighting, as in MNIST.
    ink_level = np.percentile(strength[kept], 90) if ids.size else 1.0
    gray = np.where(kept, np.minimum(strength / ink_level, 1) * 255 + 0.5, 0).astype(np.uint8)
    return _Ink(raw, gray, labels, stats, ids, photo=not flat_paper, scale=scale)


def _main_digit(ink: _Ink) -> np.ndarray:
    """(k,) labels of the biggest blob and of the blobs near it, growing outwards: one digit's pieces."""
    boxes = ink.stats[ink.ids, :4].astype(np.int64)
    boxes[:, 2:] += boxes[:, :2]  # (left, top, right, bottom)

    def joins(left, top, right, bottom):
        gap_x, gap_y = _gaps(boxes, left, top, right, bottom)
        return np.maximum(gap_x, gap_y) <= NEAR_DIGIT * max(right - left, bottom - top)

    return ink.ids[_grow(boxes, int(np.argmax(ink.stats[ink.ids, cv2.CC_STAT_AREA])), joins)]


def _grow(boxes: np.ndarray, seed: int, joins) -> np.ndarray:
    """(k,) bool: the `seed` box and every box that `joins(left, top, right, bottom)` of the group so far
    accepts, until no more join. `boxes` is (k, 4) int64 (left, top, right, bottom)."""
    chosen = np.zeros(len(boxes), bool)
    chosen[seed] = True
    while True:
        group = boxes[chosen, 0].min(), boxes[chosen, 1].min(), boxes[chosen, 2].max(), boxes[chosen, 3].max()
        joining = ~chosen & joins(*group)
        if not joining.any():
            return chosen
        chosen |= joining


def _gaps(boxes: np.ndarray, left, top, right, bottom) -> tuple[np.ndarray, np.ndarray]:
    """(k,) columns and (k,) rows from each (left, top, right, bottom) box to a group's box; 0 if touching."""
    gap_x = np.maximum(0, np.maximum(boxes[:, 0] - right, left - boxes[:, 2]))
    gap_y = np.maximum(0, np.maximum(boxes[:, 1] - bottom, top - boxes[:, 3]))
    return gap_x, gap_y


def _as_rgba(image) -> np.ndarray:
    array = np.asarray(image)
    is_image = array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))
    if array.dtype != np.uint8 or not is_image or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"expected an (h, w, 4), (h, w, 3) or (h, w) uint8 image, got {array.shape} {array.dtype}")
    if array.ndim == 2:
        return cv2.cvtColor(array, cv2.COLOR_GRAY2RGBA)
    if array.shape[2] == 3:
        return cv2.cvtColor(array, cv2.COLOR_RGB2RGBA)
    return array


def _as_read(raw: np.ndarray) -> tuple[np.ndarray, float]:
    """(h, w, 4) uint8 RGBA as it is read, and its pixels per pixel of `raw`.

    A small picture is enlarged smoothly first: its pixels sample a smooth pen, and the faint
    gray edges of its strokes are ink that thresholds made for strokes a few pixels wide would
    drop, leaving a stub read as "1".
    """
    height, width = raw.shape[:2]
    if max(height, width) >= SMALL_SIDE:
        return raw, 1.0
    grow = READ_SIDE / max(height, width)
    size = (max(1, round(width * grow)), max(1, round(height * grow)))
    return cv2.resize(raw, size, interpolation=cv2.INTER_LINEAR), grow


def _flatten_alpha(raw: np.ndarray) -> np.ndarray:
    """(h, w) uint8 luminance of (h, w, 4) uint8 RGBA laid on paper."""
    luminance = cv2.cvtColor(raw, cv2.COLOR_RGBA2GRAY)
    alpha = raw[..., 3]
    if alpha.min() == 255:
        return luminance
    # Transparent pixels are paper and what is drawn on them is ink, so the paper takes the shade
    # opposite the drawing: black under a canvas's white strokes, white under a PNG's dark ink.
    drawn = luminance[alpha >= 128]
    paper = 0 if drawn.size == 0 or np.median(drawn) >= 128 else 255
    opacity = alpha.astype(np.float32) / 255
    return (luminance * opacity + paper * (1 - opacity) + 0.5).astype(np.uint8)


def _level(histogram: np.ndarray, fraction: float) -> int:
    """The gray level below or at which `fraction` of the pixels lie."""
    return int(np.searchsorted(np.cumsum(histogram), fraction * histogram.sum()))


def _photo_ink(dark_ink: np.ndarray) -> tuple[np.ndarray, float]:
    """(h, w) float32 ink strength in [0, 1] and its threshold, for (h, w) uint8 dark ink on unevenly lit paper."""
    smooth = cv2.GaussianBlur(dark_ink, (3, 3), 0)
    height, width = smooth.shape
    shrink = min(1.0, BACKGROUND_SIDE / max(height, width))
    small_size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
    small = cv2.resize(smooth, small_size, interpolation=cv2.INTER_AREA)
    # A closing wider than any stroke erases the ink and leaves the paper's own level under the
    # lighting, shadows and tint; ink is measured as a share of that level, so lighting cancels.
    kernel_side = max(3, max(small.shape) // PAPER_KERNEL)
    # A window cut short by the picture's edge would see only the lighter side of a vignette and
    # take the darker edge for ink; continuing the picture past its edges (continuing a darkening
    # ramp, never mirroring ink into light) gives the window its whole view.
    continued = np.minimum(
        np.pad(small.astype(np.int16), kernel_side, mode="reflect", reflect_type="odd"),
        np.pad(small, kernel_side, mode="edge"),
    )
    window = np.ones((kernel_side, kernel_side), np.uint8)
    closed = cv2.morphologyEx(continued.clip(0, 255).astype(np.uint8), cv2.MORPH_CLOSE, window)
    paper_small = closed[kernel_side:-kernel_side, kernel_side:-kernel_side]
    paper = cv2.resize(paper_small, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    # Shares of a dim level magnify noise (think of blank paper taken for a dark board), so below
    # mid-gray the contrast counts in absolute terms.
    darkness = np.clip((paper - smooth) / np.maximum(paper, 128), 0, 1)
    otsu, _ = cv2.threshold((darkness * 255).astype(np.uint8), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    # Otsu always splits something; on blank paper it would split the noise, hence the floor.
    threshold = max(otsu / 255, MIN_CONTRAST)
    darkness[_paper_marks(darkness, threshold)] = 0
    return darkness, threshold


def _paper_marks(darkness: np.ndarray, threshold: float) -> np.ndarray:
    """(h, w) bool: the dark pixels of a photo that belong to the paper or what lies around it, not to the ink.

    Ruled, grid and margin lines are long, thin and straight: they are taken away except where a
    stroke crosses them. Solid dark regions reaching the picture's edge (a desk, a table's shadow
    beside the sheet) are no pen stroke, and every blob they touch goes with them.
    """
    height, width = darkness.shape
    ink = (darkness >= threshold).astype(np.uint8)
    # Lines are looked for on a lower threshold, so a faint stretch does not break them up.
    faint = (darkness >= threshold / 2).astype(np.uint8)
    side = max(5, round(SOLID_SIDE * min(height, width)))
    solid = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((side, side), np.uint8))
    if solid.any():
        faint &= cv2.dilate(solid, np.ones((5, 5), np.uint8)) ^ 1
    kept = ink.copy()
    thickness = max(3.0, LINE_THICKNESS * min(height, width))
    for vertical in (False, True):
        lines = _long_lines(faint.T if vertical else faint, thickness)
        if lines is None:
            continue
        lines = np.ascontiguousarray(lines.T) if vertical else lines
        across = (1, 3) if vertical else (3, 1)  # (rows, columns) across the line
        lines = cv2.dilate(lines, np.ones(across, np.uint8))  # the line's blurred edges too
        without = kept & (lines ^ 1)
        # A stroke crossing the line has ink on both sides of it: bridge those gaps again, and
        # give back the line's pixels right beside a stroke (where a slanted one crosses or ends).
        reach = 2 * int(np.ceil(thickness)) + 3
        bridge = np.ones((1, reach) if vertical else (reach, 1), np.uint8)
        bridged = cv2.morphologyEx(without, cv2.MORPH_CLOSE, bridge)
        strokes = cv2.morphologyEx(without, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        beside = cv2.dilate(strokes, np.ones((3, 9) if vertical else (9, 3), np.uint8))
        kept = without | ((bridged | beside) & lines & kept)
    if solid.any():
        _, regions, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
        left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
        right, bottom = left + stats[:, cv2.CC_STAT_WIDTH], top + stats[:, cv2.CC_STAT_HEIGHT]
        at_edge = (left == 0) | (top == 0) | (right == width) | (bottom == height)
        big = stats[:, cv2.CC_STAT_AREA] >= SOLID_AREA * height * width
        background = 1 + np.flatnonzero((at_edge & big)[1:])
        if background.size:
            _, blobs = cv2.connectedComponents(kept, connectivity=8)
            touched = np.unique(blobs[np.isin(regions, background)])
            kept[np.isin(blobs, touched[touched > 0])] = 0
    return _strokes_given_back(ink > 0, (ink > 0) & (kept == 0))


def _strokes_given_back(ink: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """(h, w) bool `marks` less the ones that are pen strokes of the digit itself.

    In a tight crop (a digit cut from a form's box, a small scan, a digit filling its picture)
    the digit's own strokes run from edge to edge and are as thick, for the picture's size,
    as a desk's edge or a ruled line: a mark is a stroke when it is as thick as the pen that
    wrote the rest of the ink and touches it, or, when (next to) nothing else is left, when it
    is no thicker than a pen can be. `ink` and `marks` are (h, w) bool.
    """
    if not marks.any():
        return marks
    rest = ink & ~marks
    rest_area, marks_area = np.count_nonzero(rest), np.count_nonzero(marks)
    pen = _stroke_width(rest.astype(np.uint8) * 255) if rest.any() else 0.0
    # Thresholds and line removal can leave a gap of about a pen's width between a stroke's parts.
    reach = 2 * int(np.ceil(pen)) + 3
    # Touching the digit's body, not a stub of a line or a speck that the cleaning left.
    body = np.zeros_like(rest)
    if rest.any():
        _, rest_labels, rest_stats, _ = cv2.connectedComponentsWithStats(rest.astype(np.uint8), connectivity=8)
        big = 1 + np.flatnonzero(rest_stats[1:, cv2.CC_STAT_AREA] >= BODY_SHARE * rest_area)
        body = np.isin(rest_labels, big)
    near_rest = cv2.dilate(body.astype(np.uint8), np.ones((reach, reach), np.uint8)) > 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(marks.astype(np.uint8), connectivity=8)
    touching = np.zeros(count, bool)
    touching[np.unique(labels[near_rest & marks])] = True
    given_back = np.zeros(count, bool)
    for label in range(1, count):
        left, top, width, height = stats[label, :4]
        component = labels[top : top + height, left : left + width] == label
        thickness = _stroke_width(component.astype(np.uint8) * 255)
        pen_like = touching[label] and PEN_LIKE[0] * pen <= thickness <= PEN_LIKE[1] * pen
        # Little or nothing left (slivers at the edge): the marks were the digit, unless too thick for a pen.
        # A desk or a shadow is solid, filling its box; strokes (a 0, a 2, a 7) leave most of theirs empty.
        pen_thick = thickness <= MAX_PEN * max(marks.shape) or stats[label, cv2.CC_STAT_AREA] <= SOLID_FILL * width * height
        all_of_it = rest_area < LITTLE_LEFT * marks_area and pen_thick
        given_back[label] = pen_like or all_of_it
    return marks & ~given_back[labels]


def _long_lines(faint: np.ndarray, thickness: float):
    """(h, w) uint8 1 on the horizontal lines of (h, w) uint8 mask `faint` that are long and thin; None if none."""
    height, width = faint.shape
    # Rows are widened by a pixel each way so a line tilted a little still runs unbroken.
    band = cv2.dilate(faint, np.ones((3, 1), np.uint8))
    runs = cv2.morphologyEx(band, cv2.MORPH_OPEN, np.ones((1, max(3, width // LINE_KERNEL)), np.uint8)) & faint
    if not runs.any():
        return None
    # Lines are sorted out on a copy half as big (each pixel inked if any of its four is), for speed.
    half = cv2.resize(runs * np.uint8(255), ((width + 1) // 2, (height + 1) // 2), interpolation=cv2.INTER_AREA) > 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(half.view(np.uint8), connectivity=8)
    lines = np.zeros(half.shape, np.uint8)
    for label in 1 + np.flatnonzero(stats[1:, cv2.CC_STAT_WIDTH] >= LINE_LENGTH * half.shape[1]):
        left, top, span, rows = stats[label, :4]
        member = labels[top : top + rows, left : left + span] == label
        columns = np.count_nonzero(member, axis=0)
        # Thin for most of its length: strokes crossing or touching it do not count. Where a
        # stroke lies along it, the column is thick and left alone, so the stroke keeps its ink.
        thin = columns <= thickness / 2 + 1
        if np.median(columns) <= thickness / 2 + 1:
            lines[top : top + rows, left : left + span] |= (member & thin).astype(np.uint8)
    lines = cv2.resize(lines, (half.shape[1] * 2, half.shape[0] * 2), interpolation=cv2.INTER_NEAREST)
    lines = lines[:height, :width] & runs
    return lines if lines.any() else None


def _column_groups(ink: _Ink) -> list[tuple[list[int], int, int]]:
    """The kept blobs grouped by shared columns, as (labels, left, right) with right exclusive."""
    groups: list[tuple[list[int], int, int]] = []
    for label in ink.ids[np.argsort(ink.stats[ink.ids, cv2.CC_STAT_LEFT], kind="stable")]:
        left = int(ink.stats[label, cv2.CC_STAT_LEFT])
        right = left + int(ink.stats[label, cv2.CC_STAT_WIDTH])
        shares = [_shared_columns((left, right), (group_left, group_right)) for _, group_left, group_right in groups]
        if shares and max(shares) >= OVERLAP:
            best = int(np.argmax(shares))
            labels, group_left, group_right = groups[best]
            groups[best] = (labels + [int(label)], min(left, group_left), max(right, group_right))
        else:
            groups.append(([int(label)], left, right))
    return groups


def _shared_columns(span: tuple[int, int], other: tuple[int, int]) -> float:
    """Share of the narrower of two column spans [left, right) that the other covers too."""
    return (min(span[1], other[1]) - max(span[0], other[0])) / min(span[1] - span[0], other[1] - other[0])


def _split_touching(group: np.ndarray, left: int, top: int) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
    """The digits in (h, w) uint8 ink placed at (left, top), as ((x, y, w, h), tight (h', w') uint8 crop)."""
    rows = np.flatnonzero(group.any(axis=1))
    columns = np.flatnonzero(group.any(axis=0))
    digit = group[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    left, top = left + int(columns[0]), top + int(rows[0])
    height, width = digit.shape
    whole = [((left, top, width, height), digit)]
    margin = max(1, round(0.3 * width))  # the ends hold a digit's own sides: no place to cut
    if width <= TOUCHING_ASPECT * height or width - margin <= margin:
        return whole
    # Touching digits meet where a column crosses a single stroke, the thinner the better; a wide
    # single digit (a 2, a 5, a 0) crosses two or three strokes all through its middle.
    inked = digit > 0
    crossings = np.count_nonzero(inked[1:] & ~inked[:-1], axis=0) + inked[0]
    cost = (crossings * (height + 1) + np.count_nonzero(inked, axis=0))[margin : width - margin]
    cut = margin + int(np.argmin(cost))
    if crossings[cut] > 1:
        return whole
    return _split_touching(digit[:, :cut], left, top) + _split_touching(digit[:, cut:], left + cut, top)


def _normalise(ink: _Ink, box: tuple[int, int, int, int], cropped: np.ndarray) -> Preprocessed:
    scaled = _fit(_with_mnist_pen(cropped), DIGIT_SIDE)
    return Preprocessed(ink.raw, ink.gray, cropped, scaled, _centre_by_mass(scaled), box, empty=False, scale=ink.scale)


def _squeezed(cropped: np.ndarray, aspect: float) -> np.ndarray:
    """(h, w) uint8 ink -> (28, 28) float32 in [0, 1] of it resized to `aspect` times its height wide, normalised."""
    # A small scan is enlarged first so its strokes survive the narrowing; a big photo is shrunk,
    # since the pen is measured on at most STROKE_SIDE pixels anyway.
    height = int(np.clip(cropped.shape[0], 2 * DIGIT_SIDE, 4 * STROKE_SIDE))
    resized = cv2.resize(cropped, (max(1, round(cropped.shape[1] * height / cropped.shape[0])), height),
                         interpolation=cv2.INTER_LINEAR if height > cropped.shape[0] else cv2.INTER_AREA)
    narrowed = cv2.resize(resized, (max(1, round(aspect * height)), height), interpolation=cv2.INTER_AREA)
    return _centre_by_mass(_fit(_with_mnist_pen(narrowed), DIGIT_SIDE))


def _empty(ink: _Ink) -> Preprocessed:
    nothing = np.zeros((0, 0), np.uint8)
    blank = np.zeros((SIDE, SIDE), np.float32)
    return Preprocessed(ink.raw, ink.gray, nothing, nothing, blank, (0, 0, 0, 0), empty=True, scale=ink.scale)


def _with_mnist_pen(cropped: np.ndarray) -> np.ndarray:
    """(h, w) uint8 digit, shrunk to at most STROKE_SIDE and with strokes widened to MNIST's pen."""
    digit = _fit(cropped, STROKE_SIDE) if max(cropped.shape) > STROKE_SIDE else cropped
    # Shrinking fades strokes thinner than the shrink factor; bring their cores back to full ink.
    digit = cv2.convertScaleAbs(digit, alpha=255 / int(digit.max()))
    pen = PEN_WIDTH * max(digit.shape) / DIGIT_SIDE
    # Widening by 2r also grows the digit by 2r, which thins the pen once scaled to 20 px.
    radius = round((pen - _stroke_width(digit)) / (2 * (1 - PEN_WIDTH / DIGIT_SIDE)))
    if radius < 1:
        return digit
    padded = cv2.copyMakeBorder(digit, radius, radius, radius, radius, cv2.BORDER_CONSTANT, value=0)
    return cv2.dilate(padded, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))


def _stroke_width(digit: np.ndarray) -> float:
    """Mean stroke width in px of (h, w) uint8 ink; 0 when none of it is at least half-strength."""
    ink = cv2.copyMakeBorder((digit >= 128).astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    inside = ink > 0
    if not inside.any():
        return 0.0
    # Across a stroke w px wide the distances to the paper run 1, 2, ..., w/2, ..., 2, 1: mean w/4 + 1/2.
    return 4 * float(cv2.distanceTransform(ink, cv2.DIST_L2, 3)[inside].mean()) - 2


def _fit(digit: np.ndarray, side: int) -> np.ndarray:
    """(h, w) uint8 resized so its longest side is `side`, aspect kept."""
    height, width = digit.shape
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(digit, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def _centre_by_mass(scaled: np.ndarray) -> np.ndarray:
    """(28, 28) float32 in [0, 1] holding (h, w) uint8 `scaled` with its centre of mass at the centre."""
    moments = cv2.moments(scaled)
    height, width = scaled.shape
    # Whole-pixel shifts keep the strokes sharp; clipping keeps a lopsided digit inside the frame.
    left = int(np.clip(round(CENTRE - moments["m10"] / moments["m00"]), 0, SIDE - width))
    top = int(np.clip(round(CENTRE - moments["m01"] / moments["m00"]), 0, SIDE - height))
    image = np.zeros((SIDE, SIDE), np.float32)
    image[top : top + height, left : left + width] = scaled / np.float32(255)
    return image
