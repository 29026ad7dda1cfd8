// The participant's page: trials in the participant's own order, one answer row per question.
"use strict";
const $ = (id) => document.getElementById(id);
let pid = null, trials = [], scale = [], i = 0;

function err(m) { $("error").textContent = m || ""; }

async function begin() {
  err("");
  pid = $("pid").value.trim() || ("p" + Math.random().toString(36).slice(2, 10));
  const r = await fetch(`/api/trials?participant=${encodeURIComponent(pid)}`);
  const d = await r.json();
  if (!r.ok) { err(d.error); return; }
  $("title").textContent = d.title;
  scale = d.scale;
  trials = d.trials;
  i = trials.findIndex((t) => !t.done);
  $("start").hidden = true;
  if (i < 0) { $("thanks").hidden = false; return; }
  $("total").textContent = trials.length;
  show();
}

function player(src) {
  const video = /\.(mp4|mov|mkv|webm|m4v)$/i.test(src);
  const el = document.createElement(video ? "video" : "audio");
  el.controls = true;
  el.src = src;
  el.preload = "auto";
  return el;
}

function show() {
  const t = trials[i];
  $("trial").hidden = false;
  $("pos").textContent = i + 1;
  $("instruction").hidden = !t.instruction;
  $("instruction").textContent = t.instruction || "";
  const media = $("media");
  media.innerHTML = "";
  if (t.kind === "ab") {
    const pair = document.createElement("div");
    pair.className = "pair";
    t.media.forEach((m, k) => {
      const box = document.createElement("div");
      box.innerHTML = `<p><b>${k === 0 ? "A" : "B"}</b></p>`;
      box.appendChild(player(m));
      pair.appendChild(box);
    });
    media.appendChild(pair);
  } else {
    media.appendChild(player(t.media[0]));
  }
  const form = $("questions");
  form.innerHTML = "";
  for (const q of t.questions) {
    const div = document.createElement("div");
    div.className = "q";
    div.innerHTML = `<p>${q.text}</p>`;
    const options = t.kind === "ab" ? ["A", "B"] : scale.map((s, k) => String(k + 1));
    options.forEach((v, k) => {
      const lab = document.createElement("label");
      const inp = document.createElement("input");
      Object.assign(inp, { type: "radio", name: q.id, value: v });
      lab.appendChild(inp);
      lab.append(" " + (t.kind === "ab" ? v : scale[k]));
      div.appendChild(lab);
    });
    form.appendChild(div);
  }
}

async function next() {
  err("");
  const t = trials[i];
  const answers = {};
  for (const q of t.questions) {
    const sel = document.querySelector(`input[name="${q.id}"]:checked`);
    if (!sel) { err("Please answer every question."); return; }
    answers[q.id] = sel.value;
  }
  $("next").disabled = true;
  try {
    const r = await fetch("/api/answer", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ participant: pid, trial: t.id, answers }),
    });
    const d = await r.json();
    if (!r.ok) { err(d.error); return; }
  } finally {
    $("next").disabled = false;
  }
  t.done = true;
  i = trials.findIndex((x) => !x.done);
  if (i < 0) { $("trial").hidden = true; $("thanks").hidden = false; return; }
  show();
}

$("begin").addEventListener("click", () => begin().catch((e) => err(e.message)));
$("next").addEventListener("click", () => next().catch((e) => err(e.message)));
