"""The Learn page's lesson: each step's title, plain-words explanation, and a question to guess before the reveal."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One lesson step: what it is called, what it says, and its guess-first question."""

    key: str  # stable name used in links (?step=conv)
    title: str
    explain: str  # a few plain sentences
    question: str
    options: tuple[str, ...]
    answer: int  # index into options
    reveal: str  # why the answer is right

    def __post_init__(self):
        if not 0 <= self.answer < len(self.options):
            raise ValueError(f"step {self.key}: answer {self.answer} is not one of its {len(self.options)} options")


STEPS: tuple[Step, ...] = (
    Step("input", "1 · What the network sees",
         "The network never sees your pen. It sees 28 × 28 = 784 numbers: 0 is black background, 1 is full ink. "
         "Your drawing is cropped, scaled so its longest side is 20 pixels and centred, just like the MNIST "
         "digits the model learned from. Hover over a pixel to read its number.",
         "How many numbers does the network get for one digit?",
         ("10", "28", "784", "One per pen stroke"), 2,
         "28 rows × 28 columns = 784 numbers, whatever you draw."),
    Step("conv", "2 · Convolution",
         "A convolution slides a small grid of weights (a kernel) over the picture. At each place it multiplies "
         "the 3 × 3 pixels under it by the 9 weights, adds the 9 products and a bias, and writes the sum to the "
         "output. ReLU then turns negative sums into 0. Pick a kernel, or edit one, and pick an output pixel to "
         "see its sum.",
         "A kernel of all zeros except a 1 in the middle: what does its output look like?",
         ("A blurred digit", "The same digit", "Only the edges", "All black"), 1,
         "Each output pixel is 1 × the pixel under the middle of the kernel, so the picture comes out unchanged "
         "(that is the 'identity' kernel)."),
    Step("size", "3 · Output size",
         "How big is the output of a convolution? It depends on the input size i, the kernel size k, the stride s "
         "(how far the kernel jumps), the padding p (zeros added round the edge) and the dilation d (gaps inside "
         "the kernel): o = ⌊(i + 2p − d(k−1) − 1) / s⌋ + 1.",
         "A 28 × 28 picture, a 3 × 3 kernel, stride 2, padding 1: how wide is the output?",
         ("26", "14", "13", "28"), 1,
         "⌊(28 + 2 − 2 − 1) / 2⌋ + 1 = ⌊27 / 2⌋ + 1 = 13 + 1 = 14."),
    Step("pool", "4 · ReLU and max pooling",
         "ReLU keeps positive numbers and replaces negative ones by 0. Max pooling then cuts the map into 2 × 2 "
         "windows and keeps only the largest number of each: the map gets 4 times smaller, and a feature "
         "moved by one pixel often still wins its window.",
         "Max pooling a 28 × 28 map with 2 × 2 windows gives a map of what size?",
         ("26 × 26", "14 × 14", "7 × 7", "28 × 28"), 1,
         "Each 2 × 2 window becomes one number: 28 / 2 = 14 on each side."),
    Step("maps", "5 · Feature maps",
         "Every filter of a layer makes its own map of where it found its pattern. The first layer finds edges "
         "and strokes; deeper layers combine them into corners, loops and parts of digits, on smaller maps.",
         "Deeper layers have maps that are…",
         ("larger and fewer", "smaller and more numerous", "the same size", "copies of the input"), 1,
         "Pooling (or stride) shrinks the maps, while layers usually get more filters: 28 × 28 × 64 becomes "
         "14 × 14 × 128 in Paper S's second layer."),
    Step("filters", "6 · Filters",
         "These are the first layer's kernels after training: nobody drew them, the network learned them from "
         "examples. Many look like the hand-made edge detectors of step 2.",
         "Where do the numbers in a trained filter come from?",
         ("A person chose them", "They are random", "Training adjusted them to reduce mistakes",
          "They are copied from the picture"), 2,
         "They start random; every training step nudges each weight to make the answers on the training "
         "digits a little less wrong (gradient descent)."),
    Step("field", "7 · Receptive field",
         "One unit of a layer only depends on a square of the input: its receptive field. It grows with every "
         "layer: r_l = r_(l−1) + (k_l − 1) · (product of the strides before layer l). Pick a layer and a unit "
         "to see the square it sees on your drawing.",
         "Two 3 × 3 convolutions in a row, stride 1, no pooling: how wide is the receptive field?",
         ("3", "5", "6", "9"), 1,
         "1 + (3 − 1)·1 = 3 after the first, 3 + (3 − 1)·1 = 5 after the second."),
    Step("softmax", "8 · Softmax",
         "The last layer gives one score (a logit) per digit. Softmax turns the 10 scores into probabilities: "
         "exponentiate each, then divide by their sum, so they are positive and add up to 100 %. Dividing the "
         "scores by a temperature first makes the answer less sure (above 1) or surer (below 1).",
         "If every logit goes up by 5, the probabilities…",
         ("all go up", "stay exactly the same", "get closer to each other", "all go down"), 1,
         "exp(z + 5) = exp(z) · exp(5): the same factor lands on top and bottom of the fraction and cancels."),
    Step("look", "9 · What the model looked at",
         "Three ways to ask which pixels mattered for a digit. Saliency: how much the digit's score would change "
         "if each pixel changed a little (the gradient). Grad-CAM: which places of the last convolution layer "
         "raised the score. Occlusion: hide a square and measure how much the score drops.",
         "Covering which part of a 7 should lower the '7' score most?",
         ("The empty corners", "The top bar and the stroke", "Nothing: the model reads the whole picture",
          "The bottom-left corner"), 1,
         "Hiding background changes almost nothing; hiding the strokes removes the evidence for a 7."),
    Step("card", "10 · Architecture card",
         "Every layer's output shape, how many weights it learns, and how many multiply-adds it costs for one "
         "digit. A convolution has k²·C_in·C_out weights plus one bias per filter, whatever the picture size; "
         "a dense layer has one weight per input per unit.",
         "Which layer of Paper S's 1-layer network has the most parameters?",
         ("conv1", "pool1", "dense1 (after Flatten)", "logits"), 2,
         "conv1 has 3²·1·64 + 64 = 640. The Flatten gives 14·14·64 = 12,544 inputs, each wired to 64 dense "
         "units: 802,880 weights."),
    Step("depth", "11 · Depth: 1 to 4 layers",
         "The same drawing through networks with 1, 2, 3 and 4 convolution layers. Deeper networks see larger "
         "parts of the digit per unit and often read it more reliably, at a cost in multiply-adds.",
         "Which network has the largest receptive field in its last layer?",
         ("1 layer", "2 layers", "4 layers", "All the same"), 2,
         "Every layer adds (k − 1) × the strides so far: with pooling after each, it grows fast."),
    Step("break", "12 · Break the model",
         "Shift, turn, shrink, thicken, add noise or erase part of the drawing and watch the confidence. Then let "
         "the computer find the smallest change of pixels that makes the model read a different digit.",
         "How much must a picture change to fool a trained network?",
         ("Completely redrawn", "About half the pixels", "Often a faint change a person barely notices",
          "It can't be fooled"), 2,
         "Gradients point to the pixels that move the scores most; small, spread-out changes are often enough "
         "(Szegedy et al. 2014)."),
    Step("replay", "13 · Training replay",
         "Training starts from random filters and nudges them after every batch. Scrub through the epochs of a "
         "run trained here: the first-layer filters take shape and the probe digits get read right.",
         "At epoch 0, before any training, how many of 20 probe digits would you expect read right?",
         ("About 2 (chance)", "About 10", "All 20", "None, ever"), 0,
         "Ten digits: a random network is right about one time in ten."),
    Step("hands", "14 · Many hands from one",
         "MNIST holds each training digit once, but a class writes in many hands. So every time training shows "
         "a digit, it changes it a little at random: turned, slanted, scaled, moved, its pen a pixel thicker or "
         "thinner, or bent by a smooth random field the way another writer's loop bulges (elastic bending). "
         "These are your drawing as training might show it; below each, what the model reads.",
         "Why change the training digits at random instead of showing them as they are?",
         ("It makes training faster", "So the network learns which changes do not change the digit",
          "To hide the digits from the network", "Because MNIST's digits are wrong"), 1,
         "A 7 turned by 10° is still a 7. Seeing many such versions teaches the network to ignore those "
         "changes, so it reads writers it never saw. Too strong a change (a 6 turned upside down is a 9) "
         "would teach it the wrong answer."),
    Step("units", "15 · Dead units",
         "After Flatten, each unit of the dense layer adds up every feature with its own weights and fires when "
         "the sum is above zero (ReLU). Each square below is one unit: lit by how strongly it fires for your "
         "drawing, dark when it stays at zero for it, and marked ✕ when it fires for no MNIST digit at all.",
         "A ReLU unit has output 0 for every training digit. What happens to it during training?",
         ("It recovers as soon as the learning rate drops", "Nothing: no gradient reaches its weights, so it stays dead",
          "Dropout revives it", "It is removed from the network"), 1,
         "The gradient of ReLU is zero below zero, so a unit that never fires never learns. Its inputs here are "
         "all positive (ReLU, then pooling), so one early step that turns its weights negative kills it. "
         "BatchNorm before the ReLU keeps each unit's sum centred: digitlab's reader keeps all 128 alive."),
)

STEP_KEYS = tuple(step.key for step in STEPS)


def step_index(key: str | None) -> int:
    """The position of step `key` (from a link), or 0 for a missing or unknown key."""
    return STEP_KEYS.index(key) if key in STEP_KEYS else 0
