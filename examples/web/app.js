// Classifies a chosen file, or the microphone, with a shipped erann_tf TFLite
// model in MediaPipe's AudioClassifier, window by window as `erann predict`
// does: a window every half window, one more ending at the last sample, and
// the clip's answer the mean over its windows. Draws the spectrogram and the
// top classes of each window. Query parameters (used by tests/test_web.py):
// ?model=NAME or a .tflite URL, &audio=URL of a clip to classify at once.
import {
  AudioClassifier,
  FilesetResolver,
} from "./node_modules/@mediapipe/tasks-audio/audio_bundle.mjs";

const WASM = new URL("./node_modules/@mediapipe/tasks-audio/wasm", import.meta.url).href;
const RATE = 44100; // the models' rate; the page decodes and records at it
const TOP = 3;
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

// What the page has computed, for people (the DOM) and for tests (window.erann).
// `heard`: the microphone's windows as classified (samples), for the test.
const state = {
  ready: false, error: null, labels: [], windowSeconds: 1, results: [], clip: null, heard: [],
};
window.erann = state;

const $ = (id) => document.getElementById(id);
const say = (text) => { $("status").textContent = text; };
let fileset = null;
let classifier = null;

function modelUrl(spec) {
  return spec.endsWith(".tflite")
    ? new URL(spec, location.href).href
    : new URL(`../../savedmodels/${spec}/model_float16.tflite`, location.href).href;
}

async function loadModel(spec) {
  state.ready = false;
  say(`loading ${spec}...`);
  fileset = fileset || await FilesetResolver.forAudioTasks(WASM);
  if (classifier) classifier.close();
  const url = modelUrl(spec);
  classifier = await AudioClassifier.createFromOptions(fileset, {
    baseOptions: { modelAssetPath: url }, maxResults: -1,
  });
  // metadata.json beside the model gives the window; the labels are in the file.
  const meta = await fetch(new URL("metadata.json", url)).then((r) => (r.ok ? r.json() : null));
  state.windowSeconds = meta ? meta.window_s : 1;
  state.ready = true;
  say(`${spec} ready`);
}

function toScores(result) {
  const categories = result.classifications[0].categories;
  const scores = new Array(categories.length);
  for (const c of categories) {
    scores[c.index] = c.score;
    state.labels[c.index] = c.categoryName;
  }
  return scores;
}

// The windows of erann_tf.data.windows.window_bounds: [start, end) sample pairs.
function windowBounds(total, size, hop) {
  if (total <= size) return [[0, total]];
  const bounds = [];
  for (let start = 0; start + size <= total; start += hop) bounds.push([start, start + size]);
  if (bounds[bounds.length - 1][1] < total) bounds.push([total - size, total]);
  return bounds;
}

// One window of `size` samples (zero-padded when shorter), scored as one result.
function classifyWindow(samples, startMs, endMs) {
  const size = Math.round(state.windowSeconds * RATE);
  const padded = new Float32Array(size);
  padded.set(samples.subarray(0, size));
  const [result] = classifier.classify(padded, RATE);
  state.results.push({ timestampMs: startMs, endMs, scores: toScores(result) });
  state.clip = clipAnswer(state.results);
  drawChart();
}

function clipAnswer(results) {
  const mean = results[0].scores.map((_, i) =>
    results.reduce((sum, r) => sum + r.scores[i], 0) / results.length);
  const best = mean.indexOf(Math.max(...mean));
  return { label: state.labels[best], score: mean[best], scores: mean, windows: results.length };
}

async function decode(bytes) {
  // decodeAudioData resamples to the context's rate: a 44.1 kHz file stays as it is.
  const buffer = await new OfflineAudioContext(1, 1, RATE).decodeAudioData(bytes);
  const mono = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    buffer.getChannelData(c).forEach((v, i) => { mono[i] += v / buffer.numberOfChannels; });
  }
  return mono;
}

async function classifyBytes(bytes, name) {
  say(`classifying ${name}...`);
  const samples = await decode(bytes);
  state.results = [];
  drawSpectrogram(samples);
  const size = Math.round(state.windowSeconds * RATE);
  for (const [start, end] of windowBounds(samples.length, size, Math.max(1, size >> 1))) {
    classifyWindow(samples.subarray(start, end), (1000 * start) / RATE, (1000 * end) / RATE);
  }
  say(`${name}: ${(samples.length / RATE).toFixed(2)} s, ${state.results.length} window(s)`);
  state.done = true;
}

// ---- drawing -------------------------------------------------------------

function fft(re, im) { // in place, radix 2
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) { [re[i], re[j]] = [re[j], re[i]]; [im[i], im[j]] = [im[j], im[i]]; }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const step = -2 * Math.PI / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < size / 2; k++) {
        const wr = Math.cos(step * k), wi = Math.sin(step * k);
        const a = start + k, b = a + size / 2;
        const tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr;
        re[b] = re[a] - tr; im[b] = im[a] - ti; re[a] += tr; im[a] += ti;
      }
    }
  }
}

function drawSpectrogram(samples) {
  const canvas = $("spectrogram"), g = canvas.getContext("2d");
  const n = 1024, bins = n / 2, columns = canvas.width;
  const hop = Math.max(1, Math.floor((samples.length - n) / columns));
  const image = g.createImageData(columns, canvas.height);
  for (let x = 0; x < columns; x++) {
    const re = new Float64Array(n), im = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = samples[x * hop + i] || 0;
      re[i] = v * (0.5 - 0.5 * Math.cos(2 * Math.PI * i / n));
    }
    fft(re, im);
    for (let y = 0; y < canvas.height; y++) {
      const k = Math.floor(((canvas.height - 1 - y) / canvas.height) * bins);
      const db = 10 * Math.log10(re[k] * re[k] + im[k] * im[k] + 1e-10);
      const v = Math.max(0, Math.min(255, (db + 80) * 2.5));
      const p = 4 * (y * columns + x);
      image.data[p] = v; image.data[p + 1] = v * 0.6; image.data[p + 2] = 255 - v; image.data[p + 3] = 255;
    }
  }
  g.putImageData(image, 0, 0);
}

function drawChart() {
  const canvas = $("chart"), g = canvas.getContext("2d");
  const left = 44, bottom = 34, top = 10, plot = canvas.height - bottom - top;
  g.clearRect(0, 0, canvas.width, canvas.height);
  const windows = state.results.slice(-24);
  const width = (canvas.width - left) / Math.max(windows.length, 1);
  const shown = new Set();
  g.font = "11px sans-serif";
  g.fillStyle = "#333";
  g.strokeStyle = "#bbb";
  for (const tick of [0, 0.5, 1]) { // the score axis
    const y = top + plot * (1 - tick);
    g.fillText(tick.toFixed(1), 18, y + 4);
    g.beginPath(); g.moveTo(left, y); g.lineTo(canvas.width, y); g.stroke();
  }
  g.save(); g.translate(10, top + plot / 2); g.rotate(-Math.PI / 2);
  g.fillText("score", -14, 0); g.restore();
  g.fillText("window start (s)", left + (canvas.width - left) / 2 - 40, canvas.height - 4);
  windows.forEach((w, x) => {
    const order = w.scores.map((s, i) => [s, i]).sort((a, b) => b[0] - a[0]).slice(0, TOP);
    const barWidth = (width - 8) / TOP;
    order.forEach(([score, index], rank) => {
      const height = score * plot, bx = left + x * width + 4 + rank * barWidth;
      g.fillStyle = COLORS[index % COLORS.length];
      g.fillRect(bx, top + plot - height, barWidth - 2, height);
      g.fillStyle = "#333";
      g.fillText(score.toFixed(2), bx, Math.max(top + 10, top + plot - height - 3));
      shown.add(index);
    });
    g.fillText(`${(w.timestampMs / 1000).toFixed(1)}`, left + x * width + 4, top + plot + 14);
  });
  $("legend").innerHTML = [...shown].map((i) =>
    `<span><i style="background:${COLORS[i % COLORS.length]}"></i>${state.labels[i]}</span>`).join("");
  $("rows").innerHTML = windows.map((w) => {
    const best = w.scores.map((s, i) => [s, i]).sort((a, b) => b[0] - a[0]).slice(0, TOP);
    const text = best.map(([s, i]) => `${state.labels[i]} ${s.toFixed(3)}`).join(", ");
    const span = `${(w.timestampMs / 1000).toFixed(2)}-${(w.endMs / 1000).toFixed(2)} s`;
    return `<tr><td>${span}</td><td>${text}</td></tr>`;
  }).join("");
  const clip = state.clip;
  $("answer").textContent = clip
    ? `${clip.label} ${clip.score.toFixed(3)} (the mean over ${clip.windows} window(s))`
    : "";
}

// ---- microphone ----------------------------------------------------------

let microphone = null;

async function toggleMicrophone() {
  if (microphone) {
    microphone.stream.getTracks().forEach((t) => t.stop());
    await microphone.context.close();
    microphone = null;
    $("mic").textContent = "Start microphone";
    return;
  }
  // The sounds themselves, not a call's voice: WebRTC's noise suppression and
  // gain control would remove the rain, wind and engines the models classify.
  const raw = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };
  const stream = await navigator.mediaDevices.getUserMedia({ audio: raw });
  const context = new AudioContext({ sampleRate: RATE });
  const source = context.createMediaStreamSource(stream);
  const recorder = context.createScriptProcessor(4096, 1, 1);
  const size = Math.round(state.windowSeconds * RATE);
  let buffer = new Float32Array(0), heard = 0;
  let total = 0; // samples heard since the start: the windows' positions
  state.results = [];
  state.heard = [];
  recorder.onaudioprocess = (event) => {
    const block = event.inputBuffer.getChannelData(0);
    const joined = new Float32Array(buffer.length + block.length);
    joined.set(buffer); joined.set(block, buffer.length);
    buffer = joined.slice(-size);
    heard += block.length;
    total += block.length;
    if (heard >= size / 2 && buffer.length === size) { // a window every half window
      heard = 0;
      drawSpectrogram(buffer);
      state.heard.push(buffer);
      classifyWindow(buffer, (1000 * (total - size)) / RATE, (1000 * total) / RATE);
    }
  };
  source.connect(recorder);
  recorder.connect(context.destination);
  microphone = { stream, context };
  $("mic").textContent = "Stop microphone";
  say("listening (a window every half window)");
  state.listening = true;
}

// ---- wiring ---------------------------------------------------------------

async function start() {
  const params = new URLSearchParams(location.search);
  const model = params.get("model") || "erann-esc10";
  if (!model.endsWith(".tflite")) $("model").value = model;
  await loadModel(model);
  $("model").addEventListener("change", (e) => loadModel(e.target.value));
  $("file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (file) await classifyBytes(await file.arrayBuffer(), file.name);
  });
  $("mic").addEventListener("click", () => toggleMicrophone().catch(fail));
  const audio = params.get("audio");
  if (audio) await classifyBytes(await fetch(audio).then((r) => r.arrayBuffer()), audio);
}

function fail(error) {
  state.error = String(error);
  say(`error: ${error}`);
}

start().catch(fail);
