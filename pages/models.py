"""Models: every stored run with its details; set the default, rename, delete, download, or upload a Keras model."""


import pandas as pd
import streamlit as st

from digitlab import catalog, charts, registry, uploads
from digitlab.data import DataUnavailableError
from pages import ui

DETAIL_KEY = "models_detail_run"
NEXT_DETAIL_KEY = "models_detail_next"  # a run to show once the details box is built again (after an upload)
NOTICE_KEY = "models_notice"  # (kind, text) of the last action, shown once after its rerun
RENAME_KEY = "models_rename_to"
UPLOAD_FILE_KEY = "models_upload_file"
UPLOAD_NAME_KEY = "models_upload_name"
UPLOADS_DONE_KEY = "models_uploads_done"


TEACHER_ONLY = "the teacher's, on this server: unlock with the passcode in the sidebar"


def _notice(kind: str, text: str) -> None:
    st.session_state[NOTICE_KEY] = (kind, text)


def _teacher() -> bool:
    """Whether this session may change the stored models: everyone without a passcode, else the teacher.

    The default, the names and the models themselves are everyone's: changing them is class-wide.
    """
    return ui.person().teacher


def _refused() -> bool:
    """Checked again when an action runs: a disabled button is only what the browser shows."""
    if _teacher():
        return False
    _notice("error", f"Changing the stored models is {TEACHER_ONLY}.")
    return True


def _set_default(name: str) -> None:
    if _refused():
        return
    try:
        registry.set_default(name)
    except registry.RegistryError as exc:
        _notice("error", str(exc))
        return
    ui.forget_runs()
    st.session_state[ui.MODEL_KEY] = name  # this tab reads with it at once; other tabs when they next open
    _notice("success", f"{name} is now the default model: Draw, and every new visitor, read with it.")


def _rename(old: str) -> None:
    if _refused():
        return
    try:
        new = catalog.rename_run(old, st.session_state.get(RENAME_KEY, ""))
    except registry.RegistryError as exc:
        _notice("error", str(exc))
        return
    ui.forget_runs()
    if st.session_state.get(ui.MODEL_KEY) == old:
        st.session_state[ui.MODEL_KEY] = new
    st.session_state[DETAIL_KEY] = new
    st.session_state[RENAME_KEY] = ""
    _notice("success", f"{old} is now called {new}.")


def _delete(name: str) -> None:
    if _refused():
        return
    was_default = registry.default_name() == name
    try:
        catalog.delete_run(name)
    except registry.RegistryError as exc:
        _notice("error", str(exc))
        return
    ui.forget_runs()
    st.session_state.pop(DETAIL_KEY, None)
    st.session_state.pop(f"models_delete_confirm_{name}", None)  # a new run of that name starts unarmed
    _notice("success", f"{name} is deleted." + (" It was the default model: set another one as default." if was_default else ""))


def _model_bytes(path):
    return lambda: path.read_bytes()  # read when the button is clicked, not on every rerun


def upload_section() -> None:
    """A Keras file in, checked, evaluated on MNIST's test set with a progress bar, stored as a run."""
    st.subheader("Upload a Keras model")
    st.caption(f"A `.keras` or `.h5` file up to {uploads.MAX_UPLOAD_BYTES >> 20} MB, taking 28×28 images and giving "
               "10 outputs. It is loaded in Keras safe mode with built-in layers only (no `Lambda`, no custom "
               "objects), read on MNIST's 10,000 test digits, and stored as a run like any trained one.")
    # A new key after each stored upload empties the box, so the same file is not sent twice by mistake.
    if not _teacher():
        st.info(f"Uploading models is {TEACHER_ONLY}.")
        return
    file = st.file_uploader("Model file", type=["keras", "h5"], max_upload_size=uploads.MAX_UPLOAD_BYTES >> 20,
                            key=f"{UPLOAD_FILE_KEY}_{st.session_state.get(UPLOADS_DONE_KEY, 0)}")
    suggested = uploads.name_from_filename(file.name) if file is not None else ""
    name = st.text_input("Store it as", key=f"{UPLOAD_NAME_KEY}_{st.session_state.get(UPLOADS_DONE_KEY, 0)}", placeholder=suggested or "a run name",
                         help="letters, digits, '.', '_' or '-'; the file's name when left empty")
    if not st.button("Check, evaluate and store", key="models_upload_button", type="primary", disabled=file is None):
        return
    bar = st.progress(0.0, text="Checking the file…")

    def report(event) -> None:
        if event.kind == "evaluating":
            bar.progress(event.fraction, text=f"Reading MNIST's test digits: {event.step:,} / {event.steps:,}")

    try:
        result = uploads.upload_model(file.getvalue(), file.name, name=name.strip() or None, progress=report)
    except (uploads.UploadError, registry.RegistryError, DataUnavailableError) as exc:
        bar.empty()
        st.error(f"Not stored: {exc}")
        return
    ui.forget_runs()
    st.session_state[NEXT_DETAIL_KEY] = result.name
    st.session_state[UPLOADS_DONE_KEY] = st.session_state.get(UPLOADS_DONE_KEY, 0) + 1
    adapted = f" (added: {'; '.join(result.adapted)})" if result.adapted else ""
    pen = result.record.outside_writers_accuracy
    _notice("success", f"Stored {result.name}: {100 * result.accuracy:.2f} % on MNIST's 10,000 test digits"
            + (f", {100 * pen:.2f} % of other writers' pen digits" if pen is not None else "") + f"{adapted}.")
    st.rerun()  # the sidebar and the table list it too


def runs_table(rows: list[dict]) -> None:
    table = pd.DataFrame(rows)[["name", "default", "status", "origin", "arch", "test_accuracy", "mnist_test_accuracy",
                                "outside_writers_accuracy", "params", "epochs_run", "train_time_s", "failures"]]
    st.dataframe(
        table.assign(**{c: pd.to_numeric(table[c], errors="coerce") * 100
                        for c in ("test_accuracy", "mnist_test_accuracy", "outside_writers_accuracy")}),
        key="runs_table", hide_index=True,
        column_config={
            "test_accuracy": st.column_config.NumberColumn("test accuracy", format="%.2f %%"),
            "mnist_test_accuracy": st.column_config.NumberColumn("MNIST test (10,000)", format="%.2f %%"),
            "outside_writers_accuracy": st.column_config.NumberColumn("other writers' pen digits", format="%.2f %%",
                                                                      help=ui.OUTSIDE_WRITERS_HELP),
            "params": st.column_config.NumberColumn("parameters", format="localized"),
            "epochs_run": st.column_config.NumberColumn("epochs"),
            "train_time_s": st.column_config.NumberColumn("training time (s)", format="%.0f"),
            "failures": st.column_config.NumberColumn("failed attempts", help="trainings that failed and were "
                                                      "recorded beside the run without replacing it"),
        },
    )


def broken_section(broken: list[tuple[str, str]]) -> None:
    st.subheader("Broken run folders")
    teacher = _teacher()
    for folder, error in broken:
        text, confirm, button = st.columns([6, 2, 1], vertical_alignment="center")
        text.warning(f"models/{folder}: {error}")
        sure = confirm.checkbox(f"Delete {folder}", key=f"models_broken_confirm_{folder}")
        button.button("Delete", key=f"models_broken_delete_{folder}", disabled=not (sure and teacher),
                      on_click=_delete, args=(folder,))


def details_section(names: list[str]) -> None:
    if st.session_state.get(NEXT_DETAIL_KEY) in names:
        st.session_state[DETAIL_KEY] = st.session_state.pop(NEXT_DETAIL_KEY)
    if st.session_state.get(DETAIL_KEY) not in names:
        st.session_state[DETAIL_KEY] = names[0]
    name = st.selectbox("Details of", names, key=DETAIL_KEY)
    try:
        run = catalog.details(name)
    except registry.RegistryError as exc:  # deleted or broken since the list was read
        st.warning(str(exc))
        return
    st.markdown(f"### {run.name}{' · default' if run.default else ''}")
    st.caption(f"{run.status} · {run.origin}" + (f" · {run.description}" if run.description else "")
               + (f" · made {run.created}" if run.created else ""))
    if run.error:
        st.error(run.error)
    numbers = st.columns(5)
    numbers[0].metric("Test accuracy", "–" if run.test_accuracy is None else f"{100 * run.test_accuracy:.2f} %",
                      help=f"on {run.test_count:,} test images" if run.test_count else None)
    numbers[1].metric("MNIST test (10,000)",
                      "–" if run.mnist_test_accuracy is None else f"{100 * run.mnist_test_accuracy:.2f} %")
    numbers[2].metric("Other writers' pen digits",
                      "–" if run.outside_writers_accuracy is None else f"{100 * run.outside_writers_accuracy:.2f} %",
                      help=ui.OUTSIDE_WRITERS_HELP)
    numbers[3].metric("Parameters", "–" if run.params is None else f"{run.params:,}")
    numbers[4].metric("model.keras", f"{run.model_bytes / 1e6:.1f} MB" if run.model_path else "none")

    teacher = _teacher()
    with st.container(border=True):
        if not teacher:
            st.caption(f"Setting the default, renaming and deleting are {TEACHER_ONLY}.")
        actions = st.columns(2)
        actions[0].button("Set as default", key="models_set_default", on_click=_set_default, args=(run.name,),
                          disabled=run.default or not run.servable or not teacher,
                          help="already the default" if run.default else None if run.servable else "no trained model to serve")
        if run.model_path:
            actions[1].download_button("Download .keras", data=_model_bytes(run.model_path), file_name=run.download_name,
                                       mime="application/octet-stream", key="models_download", on_click="ignore")
        rename = st.columns([3, 1], vertical_alignment="bottom")
        rename[0].text_input("New name", key=RENAME_KEY, placeholder=run.name, disabled=not teacher)
        rename[1].button("Rename", key="models_rename", on_click=_rename, args=(run.name,), disabled=not teacher)
        delete = st.columns([3, 1], vertical_alignment="center")
        # Keyed by run: a box ticked for one run must never arm the Delete button of the next one shown.
        sure = delete[0].checkbox(f"Yes, delete {run.name} and its model for good", key=f"models_delete_confirm_{run.name}",
                                  disabled=not teacher)
        delete[1].button("Delete", key="models_delete", type="primary", disabled=not (sure and teacher),
                         on_click=_delete, args=(run.name,))

    about, curves, confusion, per_digit, failures = st.tabs(
        ["Architecture and knobs", "Curves", "Confusion matrix", "Per digit", f"Failures ({len(run.failures)})"])
    with about:
        if run.upload:
            st.markdown(f"Uploaded as `{run.upload.get('filename')}` ({run.upload.get('bytes', 0):,} bytes, "
                        f"SHA-256 `{str(run.upload.get('sha256'))[:16]}…`)"
                        + (f"; added: {'; '.join(run.upload['adapted'])}" if run.upload.get("adapted") else ""))
        if run.command:
            st.markdown("The exact command that made it:")
            st.code(run.command, language="bash")
        left, right = st.columns(2)
        left.markdown("**Architecture (spec)**")
        if run.spec is not None:
            left.json(run.spec, expanded=2)
        elif run.servable:
            left.caption("Its own, as uploaded: its layers")
            try:
                layers = catalog.layer_rows(ui.predictor(run.name).model)
            except registry.RegistryError as exc:  # its file changed on disk since it was checked
                left.warning(str(exc))
            else:
                left.dataframe(pd.DataFrame(layers), key="models_layers", hide_index=True)
        right.markdown("**Training knobs**")
        if run.config:
            right.json(run.config, expanded=True)
        else:
            right.caption("Not known for an uploaded model.")
    with curves:
        if run.history:
            st.plotly_chart(charts.accuracy_loss_curves({run.name: run.history}), key="models_curves", width="stretch")
        else:
            st.caption("No training history (an uploaded model, or a run that stopped before its first epoch).")
    with confusion:
        if run.confusion_matrix is not None:
            st.plotly_chart(charts.confusion_heatmap(run.confusion_matrix, title=run.name), key="models_confusion",
                            config={"displayModeBar": False})
        else:
            st.caption("No test results yet.")
    with per_digit:
        if run.per_class:
            st.dataframe(charts.per_class_styler(charts.per_class_frame(run.per_class)), key="models_per_class",
                         hide_index=True)
        else:
            st.caption("No test results yet.")
    with failures:
        if run.failures:
            st.caption("Trainings under this name that failed; the stored run was kept as it was.")
            st.dataframe(pd.DataFrame(run.failures)[["time", "message", "command"]], key="models_failures",
                         hide_index=True)
        else:
            st.caption("No failed training recorded beside this run.")


ui.require_shell("pages/models.py")

st.title("Stored models")
notice = st.session_state.pop(NOTICE_KEY, None)
if notice:
    getattr(st, notice[0])(notice[1])

rows, broken = ui.model_catalog()
if rows:
    runs_table(rows)
else:
    st.info("No stored models yet: `python -m digitlab reproduce` trains the reference runs, or upload one below.")
if broken:
    broken_section(broken)
if rows:
    details_section([row["name"] for row in rows])
upload_section()

reproduction = ui.reproduction_rows()
if reproduction:
    st.subheader("The papers' figures beside ours")
    st.caption(
        "Paper S trained on 150×150×3 inputs and reports far lower accuracies than these networks reach "
        "on 28×28 MNIST; Paper H's figures are reproduced on its own protocol (55,000 / 5,000 / 10,000)."
    )
    frame = pd.DataFrame(reproduction).drop(columns=["command"])
    percent_columns = [c for c in frame.columns if c.startswith(("paper ", "ours "))]
    st.dataframe(
        frame.assign(**{c: pd.to_numeric(frame[c]) * 100 for c in percent_columns}),
        key="papers_table",
        hide_index=True,
        column_config={c: st.column_config.NumberColumn(c, format="%.2f %%") for c in percent_columns},
    )
