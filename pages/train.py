"""Train: start CNN training jobs in the background and watch them learn live."""

import datetime

import pandas as pd
import streamlit as st

from digitlab import architectures, charts, classroom, data, jobs, presets, strokes
from digitlab.architectures import INITS
from digitlab.config import OPTIMIZERS, PRECISIONS, estimate_epoch_seconds
from pages import ui

ui.require_shell("pages/train.py")

st.title("Train")
manager = ui.job_manager()
MESSAGE_KEY = "train_message"
QUEUE_SHOWN = 20  # queued jobs listed by name; the rest are counted
NAME_NONCE = "train_name_nonce"  # a new name box (and name) after each queued job


def fresh_name(preset: str) -> str:
    return f"{preset}-{datetime.datetime.now().strftime('%H%M%S')}"


def start_job(name: str, preset: str, spec, config) -> None:
    """Queue the job; after success the name box gets a new name for the next one."""
    try:
        manager.submit(name.strip(), preset, spec, config, person=ui.person())
    except ValueError as exc:
        st.session_state[MESSAGE_KEY] = ("error", str(exc))
        return
    st.session_state[MESSAGE_KEY] = ("success", f"Queued **{name.strip()}**: it appears below and keeps "
                                     "training if you leave this page.")
    st.session_state[NAME_NONCE] = st.session_state.get(NAME_NONCE, 0) + 1


def start_classroom(train_size: int, epochs: int) -> None:
    stamp = datetime.datetime.now().strftime("%H%M%S")
    queued = []
    for preset in presets.of_paper("Paper S"):
        arch = preset.name
        try:
            manager.submit(f"{arch}-class-{stamp}", arch, preset.spec,
                           preset.config.replace(train_size=train_size, epochs=epochs), person=ui.person())
            queued.append(arch)
        except ValueError as exc:
            st.session_state[MESSAGE_KEY] = ("error", str(exc))
            return
    st.session_state[MESSAGE_KEY] = ("success", f"Queued {', '.join(queued)} ({train_size:,} images, {epochs} epochs).")


# -- a new job --------------------------------------------------------------------------------

@st.cache_data(show_spinner=False)
def style_samples(per_style: int = 6) -> list:
    """One strip of generated samples per writing style, as the model is served them (the same for everyone)."""
    return [strokes.contact_sheet(per_style, seed=3, styles=(style,)) for style in strokes.STYLES + strokes.ADDED_STYLES]


def job_form(preset: presets.Preset) -> tuple[dict, dict]:
    """The form's widgets for `preset`: returns (network, training) values for `presets.spec_and_config`."""
    spec, defaults, source = preset.spec, preset.config, preset.source
    # Keys carry the preset: choosing another preset brings up its own defaults.
    key = lambda knob: f"train_{preset.name}_{knob}"  # noqa: E731

    data_col, optimiser_col, network_col = st.columns(3)
    with data_col:
        st.markdown("**Data**")
        protocol = st.selectbox("Protocol", data.CLASSROOM_PROTOCOLS,
                                index=data.CLASSROOM_PROTOCOLS.index(defaults.protocol), key=key("protocol"),
                                help=f"{source}: {defaults.protocol}. paper-h 55,000/5,000/10,000; "
                                "paper-s 11,879 train / 2,964 test; full 54,000/6,000/10,000")
        full_train = data.planned_sizes(protocol)["train"]
        train_size = st.number_input("Training images", 100, full_train, value=full_train, step=500,
                                     key=key("train_size"),
                                     help=f"{source}: all {full_train:,}. A few thousand train in seconds per epoch.")
        seed = st.number_input("Seed", 0, 10_000, value=defaults.seed, key=key("seed"))
        augment = st.toggle("Handwriting augmentation", value=defaults.augment, key=key("augment"),
                            help=f"{source}: {'on' if defaults.augment else 'off'}. Random rotation, shift, "
                            "scale, shear and stroke width")
        elastic = st.number_input(
            "Elastic bending (share of augmented)", 0.0, 1.0, value=defaults.elastic, step=0.1, key=key("elastic"),
            disabled=not augment, help=f"{source}: {defaults.elastic:g}. With augmentation: this share of the "
            "changed digits is also bent by a smooth random field, as one writer's loop bulges where another's is flat")
        styles_share = st.number_input(
            "Writing styles MNIST lacks (share)", 0.0, 0.5, value=defaults.styles_share, step=0.05,
            key=key("styles"), help=f"{source}: {defaults.styles_share:g}. Share of the training set drawn from "
            "pen strokes in the world's ways of writing: flagged ones, crossed sevens, open fours, curled nines")
        styles_left_out = st.multiselect(
            "Styles left out of training", strokes.STYLE_NAMES, default=list(defaults.styles_left_out),
            key=key("styles_left_out"), disabled=not styles_share,
            help="Never drawn for this run: then draw one on the Draw page and see what a network makes of a way "
            "of writing it never saw")
        styles_added = st.multiselect(
            "Styles added", strokes.ADDED_STYLE_NAMES, default=list(defaults.styles_added),
            key=key("styles_added"), disabled=not styles_share,
            help="Drawn after the first styles were fixed (nines whose tail swings into an S, nines leaning hard "
            "on a long stem): added to this run's generated digits")
        with st.expander("What the styles look like"):
            st.image(style_samples(), caption=list(strokes.STYLE_NAMES + strokes.ADDED_STYLE_NAMES), width=180)
        traces_share = st.number_input(
            "Real writers' pen traces (share)", 0.0, 0.5, value=defaults.traces_share, step=0.05,
            key=key("traces"), help=f"{source}: {defaults.traces_share:g}. Share of the training set drawn from pen "
            "traces by 30 writers in Istanbul (UCI pendigits): real hands, not this team's idea of them")
        boxed_share = st.number_input(
            "Stretched to fill a box (share)", 0.0, 0.5, value=defaults.boxed_share, step=0.05,
            key=key("boxed"), help=f"{source}: {defaults.boxed_share:g}. Share of the training set made of its "
            "digits stretched to fill a box, as forms and some scanners keep them (a one as wide as tall)")
        boxed_from_styles = st.number_input(
            "Boxed copies from the styles (share)", 0.0, 1.0, value=defaults.boxed_from_styles,
            step=0.1, key=key("boxed_styles"), disabled=not (boxed_share and styles_share),
            placeholder="as drawn (about 1 in 8)",
            help=f"{source}: {defaults.boxed_from_styles if defaults.boxed_from_styles is not None else 'blank'}. "
            "Share of the boxed copies made from the generated styles; blank: drawn from the training set as it "
            "stands, where about one in eight is a style")
    with optimiser_col:
        st.markdown("**Optimiser**")
        epochs = st.number_input("Epochs", 1, 500, value=defaults.epochs, key=key("epochs"),
                                 help=f"{source}: {defaults.epochs}")
        batch_size = st.number_input("Batch size", 1, 4096, value=defaults.batch_size, key=key("batch"),
                                     help=f"{source}: {defaults.batch_size}")
        optimizer = st.selectbox("Optimizer", OPTIMIZERS,
                                 index=OPTIMIZERS.index(defaults.optimizer), key=key("optimizer"),
                                 help=f"{source}: {defaults.optimizer}")
        learning_rate = st.number_input("Learning rate", 1e-6, 1.0, value=defaults.learning_rate,
                                        format="%.5f", step=1e-4, key=key("lr"),
                                        help=f"{source}: {defaults.learning_rate:g}")
        lr_decay = st.number_input("Learning-rate decay per epoch (1 = none)", 0.01, 1.0,
                                   value=defaults.lr_decay or 1.0, step=0.01, key=key("decay"),
                                   help=f"{source}: {defaults.lr_decay or 'none'}")
        patience = st.number_input("Early-stopping patience (0 = off)", 0, 100,
                                   value=defaults.early_stopping or 0, key=key("patience"),
                                   help=f"{source}: {defaults.early_stopping or 'off'}. Epochs without a "
                                   "lower validation loss before stopping, counted once BatchNorm's running statistics have settled "
                                   "(Paper H's stated batch of 1,000: after epoch 6)")
        restore_best = st.toggle("Keep the best epoch's weights", value=defaults.restore_best,
                                 key=key("restore"), help=f"{source}: {'yes' if defaults.restore_best else 'no, the last epoch'}")
        weight_ema = st.number_input(
            "Weight average momentum (0 = off)", 0.0, 0.9999, value=defaults.weight_ema or 0.0, step=0.001,
            format="%.4f", key=key("ema"), help=f"{source}: {defaults.weight_ema or 'off'}. Validate and keep a "
            "moving average of the weights over the last steps (Polyak averaging): steadier than the last step's. "
            "0.999 averages about the last 1,000 steps, so on a short run the average lags behind")
        precision = st.selectbox("Precision", PRECISIONS, key=key("precision"),
                                 help="auto: bfloat16 on CPUs with AVX512-BF16/AMX and on GPUs (2-3x faster here)")
    with network_col:
        st.markdown("**Network**")
        conv_rows = pd.DataFrame([vars(conv) for conv in spec.convs])
        edited = st.data_editor(
            conv_rows, num_rows="dynamic", hide_index=True, key=key("convs"),
            column_config={
                "filters": st.column_config.NumberColumn("filters", min_value=1, max_value=2048, required=True),
                "kernel_size": st.column_config.NumberColumn("kernel", min_value=1, max_value=9, required=True),
                "strides": st.column_config.NumberColumn("stride", min_value=1, max_value=4, required=True),
                "batch_norm": st.column_config.CheckboxColumn("BN", default=False),
                "pool": st.column_config.CheckboxColumn("pool", default=True),
            },
        )
        dense_text = st.text_input("Dense units (space-separated)", " ".join(map(str, spec.dense_units)),
                                   key=key("dense"), help=f"{source}: {' '.join(map(str, spec.dense_units))}")
        dropout = st.slider("Dropout", 0.0, 0.9, value=spec.dropout, step=0.05, key=key("dropout"),
                            help=f"{source}: {spec.dropout}")
        activation = st.selectbox("Activation", architectures.ACTIVATIONS,
                                  index=architectures.ACTIVATIONS.index(spec.activation), key=key("act"),
                                  help=f"{source}: {spec.activation}")
        padding = st.radio("Padding", ["same", "valid"], index=["same", "valid"].index(spec.padding),
                           horizontal=True, key=key("padding"), help=f"{source}: {spec.padding}")
        with st.popover("More network knobs", width="stretch"):
            positions = ["before_dense", "after_dense"]
            dropout_position = st.radio(
                "Dropout", positions, index=positions.index(spec.dropout_position), key=key("drop_at"),
                format_func={"before_dense": "before the dense layers (Paper S)",
                             "after_dense": "after the dense layers (Paper H)"}.get,
                help=f"{source}: {spec.dropout_position.replace('_', ' ')}")
            inits = list(INITS)
            init = st.selectbox("Weight initialisation", inits, index=inits.index(spec.init), key=key("init"),
                                format_func={"glorot_uniform": "Glorot uniform (Keras default)",
                                             "truncated_normal": "truncated normal, every layer (Paper H)",
                                             "truncated_normal_conv": "truncated normal, convolutions only"}.get,
                                help=f"{source}: {spec.init}")
            init_std = st.number_input("Truncated-normal σ", 0.001, 1.0, value=spec.init_std, step=0.01,
                                       key=key("init_std"), disabled=init == "glorot_uniform",
                                       help=f"{source}: {spec.init_std} (Paper H: 0.1)")
            bias_init = st.number_input("Initial bias", 0.0, 1.0, value=spec.bias_init, step=0.05,
                                        key=key("bias"), help=f"{source}: {spec.bias_init}")
            dense_batch_norm = st.toggle(
                "BatchNorm in the dense layers", value=spec.dense_batch_norm, key=key("dense_bn"),
                help=f"{source}: {'on' if spec.dense_batch_norm else 'off'}. Between each dense layer and its "
                "activation. Its inputs are all positive, so a ReLU unit whose weights turn negative early never "
                "fires again: without it, 94 to 116 of digitlab's 128 dense units ended its runs dead")
            bn_momentum = st.number_input("BatchNorm momentum", 0.0, 0.999, value=spec.bn_momentum,
                                          step=0.01, format="%.3f", key=key("bn_momentum"),
                                          help=f"{source}: {spec.bn_momentum}. Decay of the running "
                                          "mean and variance")

    network = {"convs": edited.to_dict("records"), "dense_units": dense_text, "dropout": dropout,
               "activation": activation, "padding": padding, "dropout_position": dropout_position, "init": init,
               "init_std": float(init_std), "bias_init": float(bias_init), "bn_momentum": float(bn_momentum),
               "dense_batch_norm": dense_batch_norm}
    training = {"protocol": protocol, "train_size": int(train_size), "seed": int(seed), "augment": augment,
                "styles_share": float(styles_share), "traces_share": float(traces_share),
                "boxed_share": float(boxed_share),
                "styles_left_out": tuple(styles_left_out) if styles_share else (),
                "styles_added": tuple(styles_added) if styles_share else (),
                "boxed_from_styles": None if boxed_from_styles is None else float(boxed_from_styles),
                "elastic": float(elastic) if augment else 0.0, "weight_ema": float(weight_ema),
                "epochs": int(epochs), "batch_size": int(batch_size), "optimizer": optimizer,
                "learning_rate": float(learning_rate), "lr_decay": float(lr_decay), "early_stopping": int(patience),
                "restore_best": restore_best, "precision": precision}
    return network, training


def measured_note(preset: presets.Preset) -> str:
    """What the stored reference run of this preset reads, from its run (never from source text)."""
    run = next((r for r in ui.stored_runs()[0] if r["name"] == preset.name and r["mnist_test_accuracy"]), None)
    return (f" Its stored run reads {100 * run['mnist_test_accuracy']:.2f} % of MNIST's test digits."
            if run else "")


with st.expander("New training job", expanded=not manager.jobs(include_finished=False), icon=":material/science:"):
    preset_name = st.selectbox("Preset", list(presets.PRESETS), format_func=lambda n: presets.get(n).label,
                               key="train_preset")
    preset = presets.get(preset_name)
    st.caption(f"{preset.spec.description}. Every knob starts at {preset.source}'s value (shown in its help). "
               + preset.notes + measured_note(preset))
    network, knobs = job_form(preset)
    try:
        spec, config = presets.spec_and_config(preset.name, network, knobs)
        estimate = estimate_epoch_seconds(spec, config, ui.timed_records())
        problem = None
    except (ValueError, TypeError) as exc:
        problem = str(exc) or "check the network's layers"
    key = lambda knob: f"train_{preset.name}_{knob}"  # noqa: E731

    name_col, start_col = st.columns([3, 1], vertical_alignment="bottom")
    name_key = key(f"name_{st.session_state.get(NAME_NONCE, 0)}")
    if name_key not in st.session_state:
        st.session_state[name_key] = fresh_name(preset.name)
    name = name_col.text_input("Run name", key=name_key,
                               help="letters, digits, '.', '_' and '-'; stored in models/NAME")
    me = ui.person()
    too_big = None
    if not me.teacher:
        limits = classroom.StudentLimits()
        st.caption(f"Students may queue {limits.max_queued} jobs at a time, of up to {limits.max_params:,} "
                   f"parameters, {limits.max_multiply_adds / 1e6:,.0f} M multiply-adds per image and "
                   f"{limits.max_epoch_images:,} training images in all (epochs × images).")
        if not problem:
            try:
                classroom.check_job(spec, config, me, sum(job.record.job.owner == me.session
                                                          for job in manager.jobs(include_finished=False)))
            except ValueError as exc:
                too_big = str(exc)
                st.warning(f"Not for students: {too_big}.")
    if problem:
        st.error(f"This network cannot be built: {problem}")
    else:
        basis = (f"from {estimate['same_run']}, the same network timed on this machine" if estimate["same_run"]
                 else f"from {estimate['runs_used']} runs timed on this machine" if estimate["runs_used"]
                 else "a rough guess until a run has been timed here")
        waiting = len(manager.jobs(include_finished=False))
        st.caption(
            f"Estimated **{jobs.format_duration(estimate['seconds'])} per epoch**, about "
            f"{jobs.format_duration(estimate['seconds'] * config.epochs)} for {config.epochs} epochs"
            f"{' at most (early stopping may end it sooner)' if config.early_stopping else ''} "
            f"({estimate['train_images']:,} training and {estimate['validation_images']:,} validation images; {basis}"
            f"{f'; {waiting} job(s) ahead of it' if waiting else ''})."
        )
    if start_col.button("Start training", type="primary", key="train_start", disabled=bool(problem or too_big),
                        width="stretch"):
        start_job(name, preset.name, spec, config)
        st.rerun()

if ui.person().teacher:  # a class-wide action: the teacher's
    with st.expander("Classroom: the four Paper S networks at once", icon=":material/groups:"):
        st.caption("Queues Paper S's 1-, 2-, 3- and 4-layer networks with the paper's knobs on a small training set, "
                   "so a class can watch them learn side by side and compare them when done.")
        class_col1, class_col2, class_col3 = st.columns([1, 1, 1], vertical_alignment="bottom")
        class_size = class_col1.number_input("Training images", 200, 10_691, 2000, step=500, key="class_train_size")
        class_epochs = class_col2.number_input("Epochs", 1, 40, 5, key="class_epochs")
        if class_col3.button("Start all four", key="class_start", width="stretch"):
            start_classroom(int(class_size), int(class_epochs))
            st.rerun()

if MESSAGE_KEY in st.session_state:
    kind, text = st.session_state.pop(MESSAGE_KEY)
    (st.error if kind == "error" else st.success)(text)


# -- the jobs, live ---------------------------------------------------------------------------


def whose(job: jobs.Job, me: classroom.Person) -> str:
    owner = job.record.job.owner
    if owner is not None and owner == me.session:
        return "yours"
    return "the teacher's" if job.record.job.teacher else "another student's"


def stop_button(job: jobs.Job, column) -> None:
    """Stop (or Remove from queue) for the teacher and for the student who queued the job."""
    me = ui.person()
    if not job.active or not classroom.may_manage(job.record.job.owner, me):
        return
    if column.button("Stop" if job.status == "running" else "Remove from queue", key=f"stop_{job.name}",
                     width="stretch"):
        try:
            manager.stop(job.name, person=me)
            st.toast(f"{job.name}: {'stopping after this batch' if job.status == 'running' else 'taken off the queue'}")
        except (PermissionError, ValueError) as exc:
            st.toast(str(exc))


def job_header(job: jobs.Job) -> None:
    head, stop_col = st.columns([5, 1], vertical_alignment="center")
    arch = job.record.arch
    head.markdown(f"**{job.name}** · {presets.PRESETS[arch].label if arch in presets.PRESETS else arch} · "
                  f"`{job.status}` · {whose(job, ui.person())}")
    stop_button(job, stop_col)
    if job.active:
        st.progress(min(job.fraction, 1.0), text=job.progress_line())
    else:
        st.caption(job.progress_line())


def job_curves(job: jobs.Job) -> None:
    partial = job.live_points()
    if not job.history.get("loss") and not partial:
        if job.active:
            st.caption("Curves appear as soon as the first batches are done.")
        return
    st.plotly_chart(
        charts.accuracy_loss_curves({job.name: job.history}, partial={job.name: partial} if partial else None,
                                    height=320),
        key=f"curves_{job.name}", width="stretch")


def job_epoch_panels(job: jobs.Job) -> None:
    latest = job.latest_report()
    if not latest:
        if job.active:
            st.info("The confusion matrix and per-digit scores appear after the first epoch.")
        return
    epoch, report = latest
    matrix_col, table_col = st.columns([1, 1])
    matrix_col.plotly_chart(
        charts.confusion_heatmap(report["confusion_matrix"], title=f"validation, epoch {epoch}", height=340),
        key=f"matrix_{job.name}", width="stretch")
    table_col.caption(f"Per digit on the validation images after epoch {epoch} "
                      f"(accuracy {100 * report['accuracy']:.2f} %)")
    table_col.dataframe(charts.per_class_styler(charts.per_class_frame(report["per_class"]), low=0.0),
                        key=f"classes_{job.name}", hide_index=True, height=388)


def show_job(job: jobs.Job) -> None:
    job_header(job)
    job_curves(job)
    job_epoch_panels(job)
    if job.record.trained and job.record.has_test_results:
        st.page_link("pages/compare.py", label="Compare this run with others", icon=":material/bar_chart:")


# A running job redraws in three fragments, each as often as its content changes: the
# progress line every 2 s, the curves every 5 s (they move within an epoch), the confusion
# matrix and per-digit table (new once per epoch) every 10 s. Every redraw costs the server
# and the browser CPU, which a 2-core machine takes from training.
@st.fragment(run_every=2.0)
def live_progress(name: str) -> None:
    job = manager.job(name)
    if job is None or not job.active:
        st.rerun(scope="app")  # finished: list it with the others, show the new model in the sidebar
    job_header(job)


@st.fragment(run_every=5.0)
def live_curves(name: str) -> None:
    job = manager.job(name)
    if job is not None:
        job_curves(job)


@st.fragment(run_every=10.0)
def live_epoch_panels(name: str) -> None:
    job = manager.job(name)
    if job is not None:
        job_epoch_panels(job)


# The list itself changes when a job is queued here (a rerun anyway) or elsewhere (another tab,
# the command line): looked at again every 10 s while anything is active.
@st.fragment(run_every=10.0 if manager.jobs(include_finished=False) else None)
def live_jobs() -> None:
    all_jobs = manager.jobs()
    active = [job for job in all_jobs if job.active]
    finished = [job for job in all_jobs if not job.active]
    if not all_jobs:
        st.info("No training jobs yet. Choose a preset above and press **Start training**.")
        return
    st.subheader(f"Jobs · {len(active)} running or waiting" if active else "Jobs")
    if active:
        st.caption(f"Trains {manager.max_running} job(s) at a time on this machine; the others wait in the queue. "
                   "Jobs keep running when you leave this page or close the browser.")
    # Only training jobs redraw live; the queue is one list, redrawn with this fragment, so a
    # long queue costs no more polling than a short one.
    for job in (job for job in active if job.status == "running"):
        with st.container(border=True):
            live_progress(job.name)
            live_curves(job.name)
            live_epoch_panels(job.name)
    waiting = [job for job in active if job.status == "queued"]
    if waiting:
        with st.container(border=True):
            st.markdown(f"**Waiting to start** · {len(waiting)} job(s): the teacher's first, then students in turn")
            for job in waiting[:QUEUE_SHOWN]:
                row, stop_col = st.columns([5, 1], vertical_alignment="center")
                row.markdown(f"{job.queue_position}. **{job.name}** · {whose(job, ui.person())} · `queued`")
                st.progress(0.0, text=job.progress_line())
                stop_button(job, stop_col)
            if len(waiting) > QUEUE_SHOWN:
                st.caption(f"… and {len(waiting) - QUEUE_SHOWN} more.")
    for job in finished[:12]:
        with st.expander(f"{job.name} · {job.progress_line()}", expanded=job is finished[0] and not active):
            show_job(job)


live_jobs()
