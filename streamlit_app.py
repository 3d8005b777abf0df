"""digitlab home: what is here, the stored runs, and the papers' figures beside ours."""

import pandas as pd
import streamlit as st

from digitlab import papers, registry

st.set_page_config(page_title="digitlab", page_icon="✍️", layout="wide")


@st.cache_data(ttl=5)
def stored_runs():
    runs, errors = registry.list_runs()
    return [run.to_json() for run in runs], errors, papers.reproduction_rows(runs)


st.title("digitlab")
st.write(
    "See, teach and use convolutional networks on handwritten digits. "
    "The drawing, training, comparison and teaching pages are on their way; "
    "the models below are already trained and can be used from the command line "
    "(`python -m digitlab --help`)."
)

runs, errors, reproduction = stored_runs()
for name, error in errors:
    st.warning(f"Skipped models/{name}: {error}")

st.subheader("Stored models")
if runs:
    table = pd.DataFrame(runs)[["name", "default", "status", "arch", "protocol", "test_accuracy",
                                "mnist_test_accuracy", "params", "epochs_run", "train_time_s"]]
    st.dataframe(
        table,
        key="runs_table",
        hide_index=True,
        column_config={
            "test_accuracy": st.column_config.NumberColumn("test accuracy", format="percent"),
            "mnist_test_accuracy": st.column_config.NumberColumn("MNIST test (10,000)", format="percent"),
            "train_time_s": st.column_config.NumberColumn("training time (s)", format="%.0f"),
        },
    )
else:
    st.info("No trained models yet: `python -m digitlab reproduce` trains the reference runs.")

if reproduction:
    st.subheader("The papers' figures beside ours")
    st.caption(
        "Paper S trained on 150×150×3 inputs and reports far lower accuracies than these networks reach "
        "on 28×28 MNIST; Paper H's figures are reproduced on its own protocol (55,000 / 5,000 / 10,000)."
    )
    frame = pd.DataFrame(reproduction).drop(columns=["command"])
    percent_columns = [c for c in frame.columns if c.startswith(("paper ", "ours "))]
    st.dataframe(
        frame,
        key="papers_table",
        hide_index=True,
        column_config={c: st.column_config.NumberColumn(c, format="percent") for c in percent_columns},
    )
