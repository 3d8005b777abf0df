"""digitlab: the app shell (navigation, the active model in the sidebar)."""

import streamlit as st

from pages import ui

st.set_page_config(page_title="digitlab", page_icon="✍️", layout="wide")

navigation = st.navigation([
    st.Page("pages/draw.py", title="Draw", icon="✏️", default=True),
    st.Page("pages/train.py", title="Train", icon="🏋️"),
    st.Page("pages/compare.py", title="Compare", icon="📊"),
    st.Page("pages/models.py", title="Models", icon="📦"),
    st.Page("pages/learn.py", title="Learn", icon=":material/school:"),
])

# The job manager starts with the server's first page view, whatever the page: it starts
# queued jobs and marks those whose worker died while the server was down.
ui.job_manager()

with st.sidebar:
    runs = ui.servable_runs()
    if runs:
        names = [r["name"] for r in runs]
        labels = {
            r["name"]: f"{r['name']}{' (default)' if r['default'] else ''} · "
            + (f"{100 * r['mnist_test_accuracy']:.2f} % on MNIST" if r["mnist_test_accuracy"] is not None
               else r["status"])
            for r in runs
        }
        if st.session_state.get(ui.MODEL_KEY) not in names:
            st.session_state[ui.MODEL_KEY] = names[0]
        st.selectbox("Active model (this tab)", names, key=ui.MODEL_KEY, format_func=labels.get)
    else:
        st.warning("No trained model yet: run `python -m digitlab reproduce`.")

st.session_state[ui.SHELL_KEY] = True
if ui.WANTED_PAGE_KEY in st.session_state:  # a page opened before the shell had ever run
    st.switch_page(st.session_state.pop(ui.WANTED_PAGE_KEY))
navigation.run()
