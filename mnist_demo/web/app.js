// The page: a canvas (mouse, pen, touch), ten probability bars, the 28x28 image, Clear.
import { preprocess } from "./preprocess.js";

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d", { willReadFrequently: true });
const seen = document.getElementById("seen").getContext("2d");
const status = document.getElementById("status");
const bars = document.getElementById("bars");
const BRUSH = 20;

const rows = [];
for (let d = 0; d < 10; d++) {
  const li = document.createElement("li");
  li.innerHTML = `<span>${d}</span><span class="bar"><span class="fill"></span></span><span class="pct">0%</span>`;
  bars.appendChild(li);
  rows.push(li);
}

function clear() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  seen.clearRect(0, 0, 28, 28);
  for (const li of rows) { li.classList.remove("best"); li.querySelector(".fill").style.width = "0"; li.querySelector(".pct").textContent = "0%"; }
  status.textContent = app.model ? "Draw a digit (0-9) on the canvas." : status.textContent;
  app.last = null;
}

const app = { model: null, config: null, last: null, timings: [] };
window.digitApp = app;

function show(result) {
  const best = result.probabilities.indexOf(Math.max(...result.probabilities));
  rows.forEach((li, d) => {
    const p = result.probabilities[d];
    li.classList.toggle("best", d === best);
    li.querySelector(".fill").style.width = `${(100 * p).toFixed(1)}%`;
    li.querySelector(".pct").textContent = `${(100 * p).toFixed(1)}%`;
  });
  const img = seen.createImageData(28, 28);
  result.array.forEach((v, i) => { const g = Math.round(v * 255); img.data.set([g, g, g, 255], i * 4); });
  seen.putImageData(img, 0, 0);
  status.innerHTML = `Looks like a <b id="answer">${best}</b> (${(100 * result.probabilities[best]).toFixed(1)}% sure, ${result.ms.toFixed(1)} ms)`;
}

// Preprocess the canvas and run the model: returns {label, probabilities, array, ms}, or null if blank.
app.predict = function () {
  const t0 = performance.now();
  const pre = preprocess(ctx.getImageData(0, 0, pad.width, pad.height), app.config);
  if (pre.blank) { clear(); return null; }
  const probabilities = tf.tidy(() => Array.from(app.model.predict(tf.tensor4d(pre.array, [1, 28, 28, 1])).dataSync()));
  const ms = performance.now() - t0;
  app.timings.push(ms);
  const result = { label: probabilities.indexOf(Math.max(...probabilities)), probabilities, array: Array.from(pre.array), ms };
  app.last = result;
  show(result);
  return result;
};
app.clear = clear;

let drawing = false, last = null, pending = false;
function point(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * (pad.width / r.width), (e.clientY - r.top) * (pad.height / r.height)];
}
function schedule() {
  if (pending || !app.model) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; app.predict(); });
}
pad.addEventListener("pointerdown", (e) => {
  drawing = true; last = point(e); pad.setPointerCapture(e.pointerId);
  ctx.beginPath(); ctx.arc(last[0], last[1], BRUSH / 2, 0, 2 * Math.PI); ctx.fillStyle = "#000"; ctx.fill();
});
pad.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  const p = point(e);
  ctx.strokeStyle = "#000"; ctx.lineWidth = BRUSH; ctx.lineCap = "round"; ctx.lineJoin = "round";
  ctx.beginPath(); ctx.moveTo(...last); ctx.lineTo(...p); ctx.stroke();
  last = p;
  schedule();
});
for (const end of ["pointerup", "pointercancel"]) {
  pad.addEventListener(end, () => { if (drawing) { drawing = false; if (app.model) app.predict(); } });
}
document.getElementById("clear").addEventListener("click", clear);

async function pickBackend() {
  // WebAssembly (SIMD) first: fastest for a model this small; then whatever TensorFlow.js prefers.
  try {
    tf.wasm.setWasmPaths(new URL("./", location.href).href);
    if (await tf.setBackend("wasm")) return;
  } catch (err) {
    console.warn("wasm backend unavailable:", err);
  }
  await tf.ready();
}

app.ready = (async () => {
  await pickBackend();
  app.config = await (await fetch("preprocess.json")).json();
  app.model = await tf.loadLayersModel("model/model.json");
  tf.tidy(() => app.model.predict(tf.zeros([1, 28, 28, 1])));  // warm up the backend
  const info = await (await fetch("model/info.json")).json();
  document.getElementById("about").textContent =
    `Model: ${info.architecture}, ${info.parameters.toLocaleString()} parameters, ${(100 * info.test_accuracy).toFixed(2)}% on MNIST's test set; TensorFlow.js ${tf.version.tfjs} (${tf.getBackend()} backend).`;
  clear();
  return true;
})();
clear();
