"""One Streamlit browser session played at the protocol level: BackMsg out, ForwardMsg in, over `/_stcore/stream`.

What a browser sends was recorded once with Playwright (`python -m tests.load.record`):
on opening the app, one `rerun_script` with no widget states; then, on every canvas stroke,
a `rerun_script` holding every widget's state (the canvas's as a `json_value`), the page's
`page_script_hash` and, when the widget lives in a fragment, that `fragment_id`. Clear is a
`trigger_value` of the button's widget id, followed ~0.1 s later by the canvas's emptied value.
Widget ids (`$$ID-<hash>-<key>`) and fragment ids are read from the server's own elements, so
the replay follows the page as it changes.
"""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ANSWERS = ("Prediction:", "Number:")  # the Draw page's headline once it has read a drawing
EMPTY = "Draw a digit on the canvas"  # what it says while the canvas is empty (after Clear)


@dataclass
class Event:
    """Something the server sent: `kind` is answer, empty (the canvas is), finished, exception, error,
    media (a picture's URL) or closed."""

    at: float
    kind: str
    text: str = ""


@dataclass
class Widget:
    id: str
    fragment_id: str = ""


@dataclass
class Session:
    """A browser tab: connect, ask for reruns, and keep what came back as timed events."""

    url: str  # http://127.0.0.1:PORT
    events: list[Event] = field(default_factory=list)
    widgets: dict[str, Widget] = field(default_factory=dict)  # user key ("canvas") -> its id and fragment
    page_script_hash: str = ""
    pages: dict[str, str] = field(default_factory=dict)  # the app's pages: URL path -> page_script_hash
    received_bytes: int = 0

    async def connect(self) -> None:
        self._changed = asyncio.Event()
        self._socket = await websockets.connect(
            self.url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"],
            max_size=None, open_timeout=30)
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        await self._socket.close()
        await asyncio.gather(self._reader, return_exceptions=True)

    def rerun(self, widget_states: dict[str, tuple[str, object]] | None = None, *, fragment_id: str = "") -> int:
        """Send a rerun_script: `widget_states` maps user keys to (proto field, value). Returns the event mark."""
        message = BackMsg()
        rerun = message.rerun_script
        rerun.page_script_hash = self.page_script_hash
        rerun.context_info.timezone = "UTC"
        rerun.context_info.locale = "en-US"
        rerun.context_info.url = self.url + "/"
        if fragment_id:
            rerun.fragment_id = fragment_id
        for key, (kind, value) in (widget_states or {}).items():
            state = rerun.widget_states.widgets.add()
            state.id = self.widgets[key].id
            setattr(state, kind, value)
        mark = len(self.events)
        self._send = asyncio.ensure_future(self._socket.send(message.SerializeToString()))
        return mark

    async def wait_for(self, mark: int, kinds: tuple[str, ...], timeout: float) -> Event | None:
        """The first event since `mark` of one of `kinds` (or the socket closing), or None after `timeout` s.

        A run cut short by the next rerun (Clear's trigger, then the emptied canvas) does not count as finished.
        """
        deadline = time.perf_counter() + timeout
        while True:
            for event in self.events[mark:]:
                if event.kind == "finished" and event.text == "FINISHED_EARLY_FOR_RERUN":
                    continue
                if event.kind in kinds or event.kind == "closed":
                    return event
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except asyncio.TimeoutError:
                return None

    async def fetch_media(self, mark: int) -> tuple[int, list[str]]:
        """GET every picture shown since `mark`, as a browser does: (pictures, a line per failed fetch)."""
        urls = {e.text for e in self.events[mark:] if e.kind == "media"}
        results = await asyncio.gather(*(asyncio.to_thread(_get, self.url + "/" + url.lstrip("/"))
                                         for url in urls))
        return len(urls), [line for line in results if line]

    def problems(self, mark: int) -> list[Event]:
        return [e for e in self.events[mark:] if e.kind in ("exception", "error", "closed")]

    async def _read(self) -> None:
        try:
            async for data in self._socket:
                self.received_bytes += len(data)
                message = ForwardMsg()
                message.ParseFromString(data)
                self._handle(message, time.perf_counter())
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        self.events.append(Event(time.perf_counter(), "closed"))
        self._changed.set()

    def _learn_pages(self, app_pages) -> None:
        for page in app_pages:
            if page.page_script_hash not in self.pages.values():
                self.pages[(page.url_pathname or page.page_name or "draw").lower()] = page.page_script_hash

    def _handle(self, message: ForwardMsg, now: float) -> None:
        kind = message.WhichOneof("type")
        if kind == "new_session":
            self.page_script_hash = message.new_session.page_script_hash
            self._learn_pages(message.new_session.app_pages)
        elif kind == "navigation":  # st.navigation's pages
            self._learn_pages(message.navigation.app_pages)
        elif kind == "script_finished":
            self.events.append(Event(now, "finished", ForwardMsg.ScriptFinishedStatus.Name(message.script_finished)))
        elif kind == "session_event" and message.session_event.WhichOneof("type") == "script_compilation_exception":
            self.events.append(Event(now, "exception", message.session_event.script_compilation_exception.message))
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            which = element.WhichOneof("type")
            inner = getattr(element, which) if which else None
            widget_id = getattr(inner, "id", "")
            if widget_id.startswith("$$ID-"):
                self.widgets[widget_id.split("-", 2)[2]] = Widget(widget_id, message.delta.fragment_id)
            if which == "markdown" and element.markdown.body.lstrip("# ").startswith(ANSWERS):
                self.events.append(Event(now, "answer", element.markdown.body.lstrip("# ")))
            elif which == "imgs":
                self.events.extend(Event(now, "media", image.url) for image in element.imgs.imgs if image.url)
            elif which == "exception":
                self.events.append(Event(now, "exception", f"{element.exception.type}: {element.exception.message}"))
            elif which == "alert" and element.alert.format == Alert.ERROR:
                self.events.append(Event(now, "error", element.alert.body))
            elif which == "alert" and element.alert.body.startswith(EMPTY):
                self.events.append(Event(now, "empty", element.alert.body))


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
        return None
    except (urllib.error.URLError, OSError) as error:
        return f"GET {url.rsplit('/', 1)[-1]}: {error}"
