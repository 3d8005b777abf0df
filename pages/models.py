"""Models: the stored runs and the papers' figures beside ours."""

import pandas as pd
import streamlit as st

from pages import ui

ui.require_shell("pages/models.py")

st.title("Stored models")

runs, errors = ui.stored_runs()
for name, error in errors:
    st.warning(f"Skipped models/{name}: {error}")

if runs:
    table = pd.DataFrame(runs)[["name", "default", "status", "arch", "protocol", "test_accuracy",
                                "mnist_test_accuracy", "params", "epochs_run", "train_time_s"]]
    percent = {c: table[c] * 100 for c in ("test_accuracy", "mnist_test_accuracy")}
    st.dataframe(
        table.assign(**percent),
        key="runs_table",
        hide_index=True,
        column_config={
            "test_accuracy": st.column_config.NumberColumn("test accuracy", format="%.2f %%"),
            "mnist_test_accuracy": st.column_config.NumberColumn("MNIST test (10,000)", format="%.2f %%"),
            "params": st.column_config.NumberColumn("parameters", format="localized"),
            "epochs_run": st.column_config.NumberColumn("epochs"),
            "train_time_s": st.column_config.NumberColumn("training time (s)", format="%.0f"),
        },
    )
else:
    st.info("No trained models yet: `python -m digitlab reproduce` trains the reference runs.")

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
