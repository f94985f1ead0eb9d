"""The web chat: a Gradio page over the assistant API, with no recommendation logic.

    python app.py [--catalog PATH] [--host 127.0.0.1] [--port 7860] [--settings FILE]

Without ``--catalog`` it serves the demo grocery catalog, ingested on the first start.
``create_app(recommender)`` builds the page and ``main()`` launches it, so the page can be
built around any recommender (tests use a fake one).
"""

from __future__ import annotations

import argparse
import functools
import sys
import threading
from dataclasses import dataclass
from typing import Any

from assistant import ChatrecError, MissingDependency, Recommender, Settings, format_ingest_report
from webui.cards import CSS
from webui.service import ChatService, Options, new_session

# card slots on the page; the "recommendations" slider cannot go higher
MAX_CARDS = 10
# chips of the conditions in force ("not: Apple", "diet: vegan"); more are listed as text
MAX_CHIPS = 8


def create_app(recommender: Recommender, settings: Settings | None = None, ingest_fn: Any = None):
    """Build the page (a ``gr.Blocks``) around ``recommender``; launch it separately.

    ``settings`` defaults to the recommender's; ``ingest_fn`` replaces
    :func:`retrieval.ingest.ingest` for uploaded catalogs (tests)."""
    gr = _gradio()
    service = ChatService(recommender, settings, ingest_fn=ingest_fn)
    # photos and voice messages people upload are copied into Gradio's cache: delete them
    # after an hour, and all of them when the app stops
    with gr.Blocks(title="chatrec: chat with your catalog", delete_cache=(3600, 3600)) as demo:
        page = layout(service.settings)
        wire(demo, page, service)
    return demo


def _gradio():
    # an optional extra: the assistant, the CLI and the evaluation run without it
    try:
        import gradio
    except ImportError as e:
        raise MissingDependency("gradio", "app", "the web chat") from e
    return gradio


@dataclass
class Page:
    """The page's components, as :func:`layout` placed them."""

    session: Any
    chatbot: Any
    chips: list[Any]
    # the card slots: their columns (shown or hidden), HTML, like and dislike buttons
    cols: list[Any]
    htmls: list[Any]
    likes: list[Any]
    dislikes: list[Any]
    status: Any
    msg: Any
    audio: Any
    top_k: Any
    category: Any
    max_price: Any
    models_md: Any
    catalog_file: Any
    media_zip: Any
    ingest_btn: Any
    demo_btn: Any
    report_md: Any


def layout(settings: Settings) -> Page:
    """Place the page's components (inside a ``gr.Blocks``); no behaviour yet."""
    gr = _gradio()

    session = gr.State(new_session())
    gr.Markdown("## Chat with your catalog\nAsk in words, send a photo, or record a voice message.")
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                elem_id="chatbot", height=420, label="Conversation", feedback_options=None
            )
            # the conditions in force, each removable with one click, above the cards
            with gr.Row(elem_id="chips"):
                chips = [
                    gr.Button(
                        "", size="sm", visible=False, min_width=40, elem_id=f"chip-{i}",
                        elem_classes=["chip"],
                    )
                    for i in range(MAX_CHIPS)
                ]
            # the latest reply's cards, right under the conversation
            cols, htmls, likes, dislikes = [], [], [], []
            with gr.Row(elem_id="cards", equal_height=True):
                for i in range(MAX_CARDS):
                    with gr.Column(
                        visible=False, min_width=150, elem_classes=["rec-slot"], elem_id=f"slot-{i}"
                    ) as col:
                        htmls.append(gr.HTML("", elem_id=f"card-{i}"))
                        with gr.Row():
                            likes.append(
                                gr.Button("\u2665 Like", size="sm", min_width=60, elem_id=f"like-{i}")
                            )
                            dislikes.append(
                                gr.Button(
                                    "\u2715 Dislike", size="sm", min_width=60, elem_id=f"dislike-{i}"
                                )
                            )
                    cols.append(col)
            status = gr.Markdown("", elem_id="status")
            msg = gr.MultimodalTextbox(
                elem_id="message",
                file_types=["image", "audio", "video"],
                sources=["upload"],
                placeholder="What are you looking for? (attach a photo, a voice note or a video)",
                show_label=False,
                autofocus=True,
            )
            with gr.Accordion("Voice message", open=False):
                audio = gr.Audio(
                    sources=["microphone", "upload"], type="filepath", show_label=False,
                    elem_id="voice",
                )
        with gr.Column(scale=1):
            with gr.Accordion("Settings", open=True):
                top_k = gr.Slider(
                    1, MAX_CARDS, value=min(settings.top_k, MAX_CARDS), step=1,
                    label="Recommendations", elem_id="top-k",
                )
                category = gr.Dropdown(choices=[""], value="", label="Category", elem_id="category")
                max_price = gr.Number(
                    value=None, label="Max price (empty = any)", minimum=0, elem_id="max-price"
                )
            with gr.Accordion("Models", open=False):
                models_md = gr.Markdown("", elem_id="models")
            with gr.Accordion("Catalog", open=False):
                catalog_file = gr.File(
                    label="Catalog (JSONL or CSV)", type="filepath", elem_id="catalog-file"
                )
                media_zip = gr.File(
                    label="Its media (zip, optional)", type="filepath", elem_id="media-zip"
                )
                ingest_btn = gr.Button("Ingest and chat over it", variant="primary")
                demo_btn = gr.Button("Back to the first catalog", size="sm")
                report_md = gr.Markdown("", elem_id="ingest-report")
    return Page(session, chatbot, chips, cols, htmls, likes, dislikes, status, msg, audio, top_k,
                category, max_price, models_md, catalog_file, media_zip, ingest_btn, demo_btn,
                report_md)


def wire(demo: Any, page: Page, service: ChatService) -> None:
    """Connect the page's events to the service's handlers. The endpoint names (respond,
    like_N, dislike_N, remove_chip_N, ingest, ...) are the app's HTTP API: keep them."""
    gr = _gradio()

    p = page
    slot_outputs = p.cols + p.htmls

    def render_chips(items):
        items = list(items or [])[:MAX_CHIPS]
        return [
            gr.update(value=f"{items[i][1]} \u2715", visible=True)
            if i < len(items)
            else gr.update(value="", visible=False)
            for i in range(MAX_CHIPS)
        ]

    def render_cards(cards):
        cards = list(cards or [])[:MAX_CARDS]
        vis = [gr.update(visible=i < len(cards)) for i in range(MAX_CARDS)]
        body = [cards[i][2] if i < len(cards) else "" for i in range(MAX_CARDS)]
        return vis + body

    def panels(sess):
        values, price_max = service.filter_choices(sess)
        has_price = isinstance(price_max, (int, float))
        # a catalog without prices gets no price box; one without categories no dropdown
        return (
            gr.update(choices=[""] + values, value="", visible=bool(values)),
            gr.update(
                value=None, info=f"up to {price_max:g}" if has_price else None, visible=has_price
            ),
            service.model_panel(sess),
        )

    def respond(message, voice, history, sess, k, cat, price):
        options = Options(
            top_k=int(k) if k else None,
            category=cat or None,
            max_price=float(price) if price else None,
        )
        first = True
        for up in service.respond(message, voice, history, sess, options):
            cleared = (
                [gr.update(value=None), gr.update(value=None)] if first else [gr.update(), gr.update()]
            )
            first = False
            yield [
                up.history, up.session, up.status, *cleared, *render_cards(up.cards),
                *render_chips(up.chips),
            ]

    chat_outputs = [p.chatbot, p.session, p.status, p.msg, p.audio, *slot_outputs, *p.chips]
    inputs = [p.msg, p.audio, p.chatbot, p.session, p.top_k, p.category, p.max_price]
    # the Models panel follows each turn: a model that loaded or failed on first use
    p.msg.submit(respond, inputs, chat_outputs, concurrency_id="chat").then(
        service.model_panel, [p.session], [p.models_md])
    p.audio.stop_recording(respond, inputs, chat_outputs, concurrency_id="chat").then(
        service.model_panel, [p.session], [p.models_md])

    def feedback(sess, slot, liked):
        try:
            sess, note = service.feedback(sess, slot, liked)
        except ChatrecError as e:
            note = f"Sorry, that did not work: {e}"
        return [sess, note, *render_cards(sess.get("cards"))]

    def remove_chip(sess, slot):
        try:
            sess, note = service.remove_chip(sess, slot)
        except ChatrecError as e:
            note = f"Sorry, that did not work: {e}"
        return [sess, note, *render_chips(sess.get("chips"))]

    for i in range(MAX_CHIPS):
        p.chips[i].click(
            functools.partial(remove_chip, slot=i), [p.session], [p.session, p.status, *p.chips],
            api_name=f"remove_chip_{i}",
        )
    for i in range(MAX_CARDS):
        p.likes[i].click(
            functools.partial(feedback, slot=i, liked=True), [p.session],
            [p.session, p.status, *slot_outputs], api_name=f"like_{i}",
        )
        p.dislikes[i].click(
            functools.partial(feedback, slot=i, liked=False), [p.session],
            [p.session, p.status, *slot_outputs], api_name=f"dislike_{i}",
        )

    def ingest(cat_file, zip_file, sess, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 (gradio injects it)
        try:
            sess, report = service.catalogs.ingest_upload(sess, cat_file, zip_file)
        except ChatrecError as e:
            return [
                sess, f"**Not ingested:** {e}", gr.update(), gr.update(), gr.update(), gr.update(),
                *render_cards(sess.get("cards")), *render_chips(sess.get("chips")),
            ]
        return [sess, report, *panels(sess), [], *render_cards([]), *render_chips([])]

    ingest_outputs = [
        p.session, p.report_md, p.category, p.max_price, p.models_md, p.chatbot, *slot_outputs,
        *p.chips,
    ]
    p.ingest_btn.click(
        ingest, [p.catalog_file, p.media_zip, p.session], ingest_outputs,
        concurrency_id="ingest", concurrency_limit=1, api_name="ingest",
    )

    def back_to_demo(sess):
        sess = service.catalogs.use_default(sess)
        return [
            sess, "Chatting over the first catalog again.", *panels(sess), [], *render_cards([]),
            *render_chips([]),
        ]

    p.demo_btn.click(back_to_demo, [p.session], ingest_outputs)
    demo.load(panels, [p.session], [p.category, p.max_price, p.models_md])


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="app.py", description="The chatrec web chat.")
    p.add_argument(
        "--catalog", help="catalog file (JSONL or CSV) to serve; default: the demo catalog"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for all)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--settings", help="settings TOML file (default: $CHATREC_SETTINGS)")
    p.add_argument("--data-dir", help="folder for the index and caches (overrides settings)")
    p.add_argument(
        "--concurrency",
        type=int,
        default=2,
        help="chat turns answered at the same time (the rest wait in a queue)",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Ingest the catalog when needed, build the page and serve it until interrupted."""
    args = _parse_args(argv)
    try:
        settings = Settings.load(args.settings, data_dir=args.data_dir)
        if args.catalog:
            print(f"ingesting {args.catalog} into {settings.index_dir} ...", file=sys.stderr)
        # an explicit catalog is ingested at every start (unchanged rows are skipped, so a
        # restart is quick); the demo catalog only when the index is still empty
        recommender, report = Recommender.open(settings, args.catalog, progress=True)
        if report is not None:
            print(format_ingest_report(report), file=sys.stderr)
        demo = create_app(recommender, settings)
    except ChatrecError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    # the search structures are built while the server starts, not on the first message.
    # Started after create_app: building the page patches tqdm for gradio's progress
    # (gr.Progress(track_tqdm=True)), and a bar the model loading opened before that patch
    # raises AttributeError '_progress' when it closes
    threading.Thread(target=_prepare, args=(recommender,), name="chatrec-prepare", daemon=True).start()
    demo.queue(default_concurrency_limit=max(1, args.concurrency))
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        css=CSS,
        max_file_size=settings.max_upload_bytes * 50,
        show_error=True,
    )
    return 0


def _prepare(recommender: Any) -> None:
    try:
        recommender.prepare()
    except Exception as e:  # noqa: BLE001 - the first search reports it properly
        print(f"warning: preparing the index failed ({e}); the first search will retry", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
