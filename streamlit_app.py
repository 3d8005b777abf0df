"""digitlab: the app shell (navigation, the active model in the sidebar)."""

import streamlit as st

from pages import ui
from pages.runtime_patches import keep_keras_session

# Icons from Streamlit's bundled Material set: emoji show as empty boxes on machines without
# an emoji font, as on a stock Linux classroom PC.
st.set_page_config(page_title="digitlab", page_icon=":material/draw:", layout="wide")
keep_keras_session()  # Streamlit would spend ~190 ms of CPU after every run clearing Keras (see the function)

navigation = st.navigation([
    st.Page("pages/draw.py", title="Draw", icon=":material/draw:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/bar_chart:"),
    st.Page("pages/models.py", title="Models", icon=":material/inventory_2:"),
    st.Page("pages/learn.py", title="Learn", icon=":material/school:"),
])

# The job manager starts with the server's first page view, whatever the page: it starts
# queued jobs and marks those whose worker died while the server was down.
ui.job_manager()
ui.clean_models_folder()

with st.sidebar:
    ui.model_picker()
    ui.teacher_login()

st.session_state[ui.SHELL_KEY] = True
if ui.WANTED_PAGE_KEY in st.session_state:  # a page opened before the shell had ever run
    page, query_params = st.session_state.pop(ui.WANTED_PAGE_KEY)
    st.switch_page(page, query_params=query_params)
navigation.run()
ui.warm_models()  # after the page, which it would otherwise slow: once per server
