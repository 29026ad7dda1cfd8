"""``v2m app`` driven in a real headless browser (Debian's chromium through Playwright):
upload the shared sample clip, change the style, get a playable video and downloads; edit a
section and re-render; oversized and non-media uploads get clear messages; two tabs."""

import json
import os
import shutil
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from synth import SHARED

pytest.importorskip("starlette")
pw = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("Debian's chromium is not installed (see README)", allow_module_level=True)

CLIP = SHARED / "video" / "bikes.mp4"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from v2m._web import Server
    from v2m.app import create_app

    if not CLIP.exists():
        pytest.skip("the shared sample clip is missing")
    work = tmp_path_factory.mktemp("app-work")
    size_mb = CLIP.stat().st_size / 2**20
    srv = Server(create_app(work_dir=work, max_upload_mb=size_mb + 1)).start()
    srv.work = work
    srv.limit_mb = size_mb + 1
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    with pw.sync_playwright() as p:
        args = ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
        b = p.chromium.launch(executable_path=CHROMIUM, args=args)
        yield b
        b.close()


def _rerender(page, timeout_ms=180_000):
    """Click re-render and wait for the new run's video (or the page's error: fail)."""
    before = page.get_attribute("#player", "src")
    page.click("#rerender")
    page.wait_for_function(
        f"() => document.getElementById('player').getAttribute('src') !== '{before}' || "
        "document.getElementById('error').textContent !== ''",
        timeout=timeout_ms,
    )
    assert page.inner_text("#error") == ""


def _wait_uploaded(page, timeout_ms=120_000):
    """The upload is in (the controls show), or the page said why not (then fail with it)."""
    page.wait_for_function(
        "() => !document.getElementById('controls').hidden || "
        "document.getElementById('error').textContent !== ''",
        timeout=timeout_ms,
    )
    assert page.inner_text("#error") == "", page.inner_text("#error")


def _wait_done(page, timeout_ms=180_000):
    page.wait_for_function(
        "() => document.getElementById('stage').textContent === 'done' || "
        "document.getElementById('stage').textContent === 'nothing changed' || "
        "document.getElementById('error').textContent !== ''",
        timeout=timeout_ms,
    )
    assert page.inner_text("#error") == ""


def test_upload_score_play_download_and_rerender(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1200, "height": 1400})
    page.goto(server.url)
    page.set_input_files("#file", str(CLIP))
    _wait_uploaded(page)
    assert "bikes.mp4: video" in page.inner_text("#uploaded")
    page.select_option("#style", "electronic")
    page.check("#stems")
    page.click("#timeline", position={"x": 200, "y": 10})  # a hit by clicking the timeline
    assert page.input_value("#hits") != ""
    page.click("#score")
    page.wait_for_selector("#progress:not([hidden])")
    _wait_done(page)
    # the video plays in the page: the browser decoded it and knows its length
    page.wait_for_function(
        "() => document.getElementById('player').readyState >= 2", timeout=30_000
    )
    dur = page.evaluate("document.getElementById('player').duration")
    assert dur == pytest.approx(10.0, abs=0.6)
    assert page.evaluate("document.getElementById('player').play().then(() => true)")
    links = page.eval_on_selector_all("a.download", "els => els.map(e => e.textContent)")
    assert {"⬇ video.mp4", "⬇ music.wav", "⬇ music.flac", "⬇ score.mid", "⬇ cue.json"} <= set(links)
    with page.expect_download() as dl:
        page.click("text=⬇ cue.json")
    cue = json.loads(Path(dl.value.path()).read_text())
    assert cue["style"] == "electronic"
    with page.expect_download() as dl:
        page.click("text=⬇ stems.zip")
    import zipfile

    with zipfile.ZipFile(dl.value.path()) as z:
        stems = set(z.namelist())
    assert {"melody.wav", "drums.wav", "bass.wav"} <= stems
    assert len(page.query_selector_all("#cuts tbody tr")) >= 4
    assert page.inner_text("#why").strip() != ""
    if os.environ.get("V2M_SCREENSHOTS"):  # the docs' screenshot (see docs/app.md)
        page.screenshot(path=str(Path(os.environ["V2M_SCREENSHOTS"]) / "app.png"), full_page=True)
    # edit a section's energy and colour, re-render (no new analysis), get a new run
    page.fill("#sect tbody tr:first-child .energy", "0.2")
    page.select_option("#sect tbody tr:first-child .colour", "piano")
    _rerender(page)
    new = json.loads(
        urllib.request.urlopen(
            server.url + page.get_attribute("#player", "src").replace("video.mp4", "cue.json")
        ).read()  # fmt: skip
    )
    assert new["sections"][0]["energy"] == 0.2
    from v2m.styles import get_style

    piano = get_style("piano").programs
    assert new["sections"][0]["instruments"]["melody"] == piano["melody"]  # piano's programs
    # an energy edit alone changes the audio of its section (the per-bar curve follows it)
    import io

    import soundfile as sf

    def music(src):
        url = server.url + src.replace("video.mp4", "music.wav")
        return sf.read(io.BytesIO(urllib.request.urlopen(url).read()), dtype="float32")[0]

    second_video = page.get_attribute("#player", "src")
    before = music(second_video)
    end_s = new["sections"][0]["end_s"]
    page.fill("#sect tbody tr:first-child .energy", "0.95")
    _rerender(page)
    after = music(page.get_attribute("#player", "src"))
    k = int(end_s * 48000)
    assert not np.array_equal(before[:k], after[: min(k, len(after))])
    page.close()


def test_bad_uploads_get_clear_messages(server, browser, tmp_path):
    page = browser.new_page()
    page.goto(server.url)
    page.wait_for_function("() => document.getElementById('version').textContent !== ''")
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 100)
    page.set_input_files("#file", str(text))
    page.wait_for_function("() => document.getElementById('error').textContent !== ''")
    assert "not a video or image v2m can read" in page.inner_text("#error")
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * int((server.limit_mb + 0.5) * 2**20))
    page.set_input_files("#file", str(big))
    page.wait_for_function(
        "() => document.getElementById('error').textContent.includes('upload limit')"
    )
    # the server refuses it too, whatever the page does: from the declared length alone,
    # before reading the body (the test sends only the headers)
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(server.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.putrequest("POST", "/api/upload")
    conn.putheader("Content-Type", "multipart/form-data; boundary=zz")
    conn.putheader("Content-Length", str(int((server.limit_mb + 0.5) * 2**20)))
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 413 and "upload limit" in json.loads(resp.read())["error"]
    conn.close()
    # nothing of the refused uploads is left in the work folder
    assert not [p for p in server.work.rglob("*") if p.name in ("notes.mp4", "big.mp4")]
    page.close()


def test_files_stay_inside_the_work_folder(server):
    for bad in ("/files/nosuch/x", "/files/../../etc/passwd"):
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(server.url + bad)
        assert exc.value.code in (403, 404)


def test_two_tabs_work_at_once(server, browser):
    ctx = browser.new_context()
    pages = [ctx.new_page(), ctx.new_page()]
    for p, style in zip(pages, ("folk", "ambient"), strict=True):
        p.goto(server.url)
        p.wait_for_function("() => document.getElementById('version').textContent !== ''")
        p.set_input_files("#file", str(CLIP))
        _wait_uploaded(p)
        p.select_option("#style", style)
    for p in pages:
        p.click("#score")
    for p in pages:
        _wait_done(p)
    srcs = [p.get_attribute("#player", "src") for p in pages]
    assert srcs[0] != srcs[1]  # two sessions, two results
    styles = [
        json.loads(urllib.request.urlopen(server.url + s.replace("video.mp4", "cue.json")).read())[
            "style"
        ]
        for s in srcs
    ]  # noqa: E501
    assert styles == ["folk", "ambient"]
    ctx.close()


def test_streamed_upload_over_the_limit_leaves_nothing(tmp_path):
    """A body without (or with a false) Content-Length is cut off while it streams."""
    import asyncio

    from v2m._web import save_upload
    from v2m.errors import ParameterError

    class Upload:
        filename = "../../evil name.mp4"

        def __init__(self, n):
            self.left = n

        async def read(self, k):
            k = min(k, self.left)
            self.left -= k
            return b"\0" * k

    from concurrent.futures import ThreadPoolExecutor

    def run(coro):  # in a thread of its own: Playwright's loop may run in this one
        with ThreadPoolExecutor(1) as ex:
            return ex.submit(asyncio.run, coro).result()

    with pytest.raises(ParameterError, match="upload limit of 1 MB"):
        run(save_upload(Upload(3 * 2**20), tmp_path / "s", max_bytes=2**20))
    assert list((tmp_path / "s").iterdir()) == []
    p = run(save_upload(Upload(1000), tmp_path / "s", max_bytes=2**20))
    assert p.parent == tmp_path / "s" and p.name == "evil_name.mp4" and p.stat().st_size == 1000


def _post(url, body: bytes, ctype: str):
    req = urllib.request.Request(url, data=body, headers={"Content-Type": ctype}, method="POST")
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _upload(server, path: Path):
    b = "v2mtestboundary"
    body = (
        (
            f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + path.read_bytes()
        + f"\r\n--{b}--\r\n".encode()
    )
    return _post(server.url + "/api/upload", body, f"multipart/form-data; boundary={b}")


def _job(server, path, payload, timeout_s=120):
    import time

    code, job = _post(server.url + path, json.dumps(payload).encode(), "application/json")
    if code != 200:
        return code, job
    t0 = time.time()
    while job["state"] in ("queued", "running") and time.time() - t0 < timeout_s:
        time.sleep(0.3)
        job = json.loads(urllib.request.urlopen(f"{server.url}/api/jobs/{job['id']}").read())
    return 200, job


def test_api_scores_an_image_and_refuses_bad_requests(server, tmp_path):
    from v2m import _media

    photo = SHARED / "images" / "coffee.png"
    code, s = _upload(server, photo)
    assert code == 200 and s["kind"] == "image" and s["duration_s"] == 30.0
    code, job = _job(server, "/api/score", {"session": s["session"], "style": "piano"})
    assert job["state"] == "done", job
    video = job["result"]["video"]
    out = tmp_path / "v.mp4"
    out.write_bytes(urllib.request.urlopen(server.url + video).read())
    assert abs(_media.probe_video(out).duration_s - 30.0) < 0.5
    # bad requests are refused with their reason, before any work
    code, err = _job(server, "/api/score", {"session": s["session"], "style": "polka"})
    assert code == 400 and "polka" in err["error"]
    code, err = _job(server, "/api/score", {"session": s["session"], "backend": "musicgen"})
    assert code == 400 and "never downloads" in err["error"]
    code, err = _job(server, "/api/score", {"session": "nope"})
    assert code == 404
    code, err = _job(server, "/api/score", {"session": s["session"], "hits_s": ["soon"]})
    assert code == 400 and "soon" in err["error"]
    code, err = _post(server.url + "/api/score", b"[1, 2]", "application/json")
    assert code == 400 and "JSON object" in err["error"]
    # an invalid edited cue sheet fails as a job with the cue sheet's own message
    cue = dict(job["result"]["cue"], sections=[{"start_s": 0, "end_s": 30, "label": "A",
                                                 "energy": 7}])  # fmt: skip
    code, bad = _job(server, "/api/cue", {"session": s["session"], "cue": cue})
    assert bad["state"] == "error" and "energy" in bad["error"]


def _chunked_upload(server, n_bytes: int):
    """A multipart upload sent chunked (no Content-Length): the server cannot know its
    size before reading."""
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(server.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    b = "zz"
    head = (f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()  # fmt: skip

    def body():
        yield head
        left = n_bytes
        while left > 0:
            k = min(left, 1 << 20)
            left -= k
            yield b"\0" * k
        yield f"\r\n--{b}--\r\n".encode()

    conn.request("POST", "/api/upload", body=body(), encode_chunked=True,
                 headers={"Content-Type": f"multipart/form-data; boundary={b}",
                          "Transfer-Encoding": "chunked"})  # fmt: skip
    try:
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    except (ConnectionError, http.client.HTTPException):
        return None, None
    finally:
        conn.close()


def test_bad_api_requests_never_give_500_nor_server_paths(server, tmp_path):
    """Odd names, odd JSON values, chunked uploads over the limit: a 4xx with a reason,
    and no answer names the server's work folder."""
    import math

    answers = []
    code, s = _upload(server, CLIP)
    assert code == 200
    weird = tmp_path / "weird"
    weird.mkdir()
    for name in ("..", ".", "...mp4"):
        p = weird / ("x" if name in ("..", ".") else name)
        p.write_bytes(CLIP.read_bytes())
        b = "v2mtestboundary"
        body = (f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n").encode() + p.read_bytes() + (
            f"\r\n--{b}--\r\n").encode()  # fmt: skip
        code, ans = _post(server.url + "/api/upload", body, f"multipart/form-data; boundary={b}")
        answers.append(ans)
        assert code == 200, ans
    bad_payloads = [
        {"seed": math.inf}, {"seed": "1e400"}, {"seed": 1.5}, {"seed": "Infinity"},
        {"style": ["pop"]}, {"style": 3}, {"tempo_bpm": "fast"}, {"tempo_bpm": [120]},
        {"key": {"tonic": 0}}, {"energy": None, "hits_s": [math.nan]}, {"mode": 5},
        {"hits_s": "1,2"},
    ]  # fmt: skip
    for extra in bad_payloads:
        body = json.dumps({"session": s["session"], **extra}).encode()  # Infinity/NaN allowed
        code, ans = _post(server.url + "/api/score", body, "application/json")
        answers.append(ans)
        assert code == 400, (extra, code, ans)
    # a string number is taken as a number
    code, job = _job(server, "/api/score", {"session": s["session"], "tempo_bpm": "110",
                                            "style": "pop"})  # fmt: skip
    assert code == 200 and job["state"] == "done", job
    # not a video: the message names the upload, not the server's folder
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 100)
    code, ans = _upload(server, text)
    answers.append(ans)
    assert code == 415 and "notes.mp4" in ans["error"] and "Errno" not in ans["error"]
    code, ans = _chunked_upload(server, int((server.limit_mb + 3) * 2**20))
    assert code in (413, None)
    if code:
        answers.append(ans)
    for ans in answers:
        text = json.dumps(ans)
        assert str(server.work) not in text and str(server.work.resolve()) not in text, text


def test_api_keeps_a_talking_video_s_voice(server, talk_plain, tmp_path):
    """A vlog through the app: the voice stays clear in the video it gives back."""
    from pystoi import stoi

    from v2m.muxing import read_audio

    if talk_plain.path.stat().st_size > server.limit_mb * 2**20:
        pytest.skip("the talking video is larger than this server's upload limit")
    code, s = _upload(server, talk_plain.path)
    assert code == 200, s
    code, job = _job(server, "/api/score", {"session": s["session"], "style": "lofi"})
    assert job["state"] == "done", job
    assert job["result"]["sound"]["kept"] and "soundtrack.wav" in job["result"]["files"]
    out = tmp_path / "v.mp4"
    out.write_bytes(urllib.request.urlopen(server.url + job["result"]["video"]).read())
    y = read_audio(out, sample_rate=48000, duration_s=talk_plain.duration_s).mean(axis=1)
    assert stoi(talk_plain.voice[: len(y)], y, 48000) >= 0.9
    code, err = _job(server, "/api/score", {"session": s["session"], "keep_audio": "maybe"})
    assert code == 400 and "keep_audio" in err["error"]
