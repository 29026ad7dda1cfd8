// v2m app: upload, score, play, edit sections, re-render. Plain JS, no build step.
"use strict";
const $ = (id) => document.getElementById(id);
let session = null, duration = 0, lastCue = null, info = null;

function showError(msg) { $("error").textContent = msg || ""; }

async function api(path, body) {
  const r = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await r.json().catch(() => ({ error: `server error ${r.status}` }));
  if (!r.ok) throw new Error(data.error || `server error ${r.status}`);
  return data;
}

async function init() {
  info = await api("/api/info");
  $("version").textContent = "v" + info.version;
  for (const s of info.styles) {
    $("style").add(new Option(s, s));
    $("cue_style").add(new Option(s, s));
  }
  for (const b of info.backends) $("backend").add(new Option(b, b, b === "rules", b === "rules"));
}

async function upload(file) {
  showError("");
  if (file.size > info.max_upload_mb * 1048576) {
    showError(`${file.name}: larger than the upload limit of ${info.max_upload_mb} MB`);
    return;
  }
  $("uploaded").textContent = `uploading ${file.name} …`;
  const fd = new FormData();
  fd.append("file", file);
  const r = await fetch("/api/upload", { method: "POST", body: fd });
  const data = await r.json().catch(() => ({ error: `server error ${r.status}` }));
  if (!r.ok) {
    $("uploaded").textContent = "";
    showError(data.error);
    return;
  }
  session = data.session;
  duration = data.duration_s;
  $("uploaded").textContent = `${data.name}: ${data.kind}, ${data.duration_s.toFixed(1)} s`;
  $("controls").hidden = false;
  $("result").hidden = true;
  $("sections").hidden = true;
  drawHits();
}

function hits() {
  return $("hits").value.split(/[,\s]+/).filter((x) => x !== "").map(Number);
}

function drawHits(cuts) {
  const tl = $("timeline");
  tl.querySelectorAll(".mark").forEach((m) => m.remove());
  if (cuts) {
    tl.querySelectorAll(".cut").forEach((m) => m.remove());
    for (const c of cuts) {
      const d = document.createElement("div");
      d.className = "cut";
      d.style.left = `${(100 * c.time_s) / duration}%`;
      tl.appendChild(d);
    }
  }
  for (const h of hits()) {
    if (!(h >= 0 && h <= duration)) continue;
    const d = document.createElement("div");
    d.className = "mark";
    d.style.left = `${(100 * h) / duration}%`;
    tl.appendChild(d);
  }
}

async function runJob(path, body) {
  showError("");
  $("score").disabled = $("rerender").disabled = true;
  $("progress").hidden = false;
  try {
    let job = await api(path, body);
    while (job.state === "queued" || job.state === "running") {
      $("bar").value = job.progress;
      $("stage").textContent = job.stage || "waiting";
      await new Promise((r) => setTimeout(r, 400));
      job = await api(`/api/jobs/${job.id}`);
    }
    if (job.state === "error") throw new Error(job.error);
    $("bar").value = 1;
    $("stage").textContent = job.result.unchanged ? "nothing changed" : "done";
    show(job.result);
  } catch (e) {
    showError(e.message);
  } finally {
    $("score").disabled = $("rerender").disabled = false;
  }
}

function show(res) {
  $("result").hidden = false;
  $("player").src = res.video;
  const dl = $("downloads");
  dl.innerHTML = "";
  for (const [name, url] of Object.entries(res.files)) {
    const a = document.createElement("a");
    a.href = url + "?dl=1";
    a.textContent = "⬇ " + name;
    a.setAttribute("download", name);
    a.className = "download";
    dl.appendChild(a);
  }
  $("why").innerHTML = "";
  for (const line of res.explanations) {
    const li = document.createElement("li");
    li.textContent = line;
    $("why").appendChild(li);
  }
  const tb = $("cuts").querySelector("tbody");
  tb.innerHTML = "";
  for (const c of res.cuts) {
    const tr = tb.insertRow();
    for (const v of [c.time_s.toFixed(2), c.kind, c.score]) tr.insertCell().textContent = v;
  }
  $("ncuts").textContent = res.cuts.length;
  $("plot").src = res.plot + "?t=" + Date.now();
  drawHits(res.cuts);
  editSections(res.cue);
}

function editSections(cue) {
  lastCue = cue;
  $("sections").hidden = false;
  $("cue_style").value = cue.style;
  const tb = $("sect").querySelector("tbody");
  tb.innerHTML = "";
  cue.sections.forEach((s, i) => {
    const tr = tb.insertRow();
    tr.insertCell().textContent = s.label;
    tr.insertCell().textContent = s.start_s.toFixed(1);
    tr.insertCell().textContent = s.end_s.toFixed(1);
    const e = document.createElement("input");
    Object.assign(e, { type: "number", min: 0, max: 1, step: 0.05, value: s.energy, className: "energy" });
    e.dataset.i = i;
    tr.insertCell().appendChild(e);
    const k = document.createElement("input");
    Object.assign(k, { value: s.key || "", placeholder: cue.key, className: "key" });
    tr.insertCell().appendChild(k);
    const c = document.createElement("select");
    c.className = "colour";
    c.add(new Option("(piece's)", ""));
    for (const st of info.styles) c.add(new Option(st, st));
    tr.insertCell().appendChild(c);
  });
}

function editedCue() {
  const cue = JSON.parse(JSON.stringify(lastCue));
  cue.style = $("cue_style").value;
  const rows = $("sect").querySelector("tbody").rows;
  cue.sections.forEach((s, i) => {
    const r = rows[i];
    s.energy = Number(r.querySelector(".energy").value);
    s.key = r.querySelector(".key").value.trim() || null;
    const colour = r.querySelector(".colour").value;
    if (colour) s.instruments = { style: colour };
  });
  return cue;
}

$("file").addEventListener("change", (e) => e.target.files[0] && upload(e.target.files[0]));
const dz = $("dropzone");
dz.addEventListener("dragover", (e) => { e.preventDefault(); dz.classList.add("over"); });
dz.addEventListener("dragleave", () => dz.classList.remove("over"));
dz.addEventListener("drop", (e) => {
  e.preventDefault();
  dz.classList.remove("over");
  if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]);
});
$("energy").addEventListener("input", () => ($("energy_out").textContent = $("energy").value));
$("backend").addEventListener("change", () => ($("model_dir_label").hidden = $("backend").value === "rules"));
$("hits").addEventListener("change", () => drawHits());
$("timeline").addEventListener("click", (e) => {
  const r = e.currentTarget.getBoundingClientRect();
  const t = (((e.clientX - r.left) / r.width) * duration).toFixed(2);
  $("hits").value = [...hits(), t].join(", ");
  drawHits();
});
$("score").addEventListener("click", () => runJob("/api/score", {
  session, style: $("style").value, tempo_bpm: $("tempo").value, key: $("key").value,
  energy: $("energy").value, seed: $("seed").value, hits_s: hits(), mode: $("mode").value,
  backend: $("backend").value, model_dir: $("model_dir").value, stems: $("stems").checked,
}));
$("rerender").addEventListener("click", () => runJob("/api/cue", { session, cue: editedCue() }));
init().catch((e) => showError(e.message));
