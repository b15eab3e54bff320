// The same steps as mnist_demo/preprocess.py, with the same constants (preprocess.json),
// for an opaque canvas: grey, polarity from the border, crop to the ink ignoring specks,
// MNIST-like stroke width, longest side to 20 px (area-averaged), centre of mass in 28x28.
// Resampling follows Pillow's (box reduce, bilinear and box resize) so both agree closely.

// Python's round(): halves go to the even neighbour.
function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// RGBA bytes -> 8-bit grey, as Pillow's convert("L") (ITU-R 601-2 luma, fixed point).
function toGrey(rgba, width, height) {
  const grey = new Uint8Array(width * height);
  for (let i = 0, j = 0; j < grey.length; i += 4, j++) {
    grey[j] = (rgba[i] * 19595 + rgba[i + 1] * 38470 + rgba[i + 2] * 7471 + 0x8000) >> 16;
  }
  return { data: grey, width, height };
}

function crop(img, x0, y0, x1, y1) {
  const w = x1 - x0, h = y1 - y0, out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) out.set(img.data.subarray((y0 + y) * img.width + x0, (y0 + y) * img.width + x1), y * w);
  return { data: out, width: w, height: h };
}

// Pillow's Image.reduce(f): the mean of each f x f block (partial blocks at the edges), rounded.
function reduce(img, f) {
  if (f <= 1) return img;
  const w = Math.ceil(img.width / f), h = Math.ceil(img.height / f), out = new Uint8Array(w * h);
  for (let by = 0; by < h; by++) {
    for (let bx = 0; bx < w; bx++) {
      let sum = 0, n = 0;
      for (let y = by * f; y < Math.min((by + 1) * f, img.height); y++) {
        for (let x = bx * f; x < Math.min((bx + 1) * f, img.width); x++) { sum += img.data[y * img.width + x]; n++; }
      }
      out[by * w + bx] = Math.floor(sum / n + 0.5);
    }
  }
  return { data: out, width: w, height: h };
}

// Pillow's resampling coefficients for one axis (filter support scaled when shrinking).
function coefficients(inSize, outSize, filter, support) {
  const scale = inSize / outSize, filterScale = Math.max(scale, 1), sup = support * filterScale;
  const taps = [];
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(Math.floor(center - sup + 0.5), 0), hi = Math.min(Math.floor(center + sup + 0.5), inSize);
    const w = [];
    let total = 0;
    for (let j = lo; j < hi; j++) { const v = filter((j - center + 0.5) / filterScale); w.push(v); total += v; }
    taps.push({ lo, w: w.map((v) => (total ? v / total : 0)) });
  }
  return taps;
}
const BILINEAR = [(x) => (Math.abs(x) < 1 ? 1 - Math.abs(x) : 0), 1];
const BOX = [(x) => (x > -0.5 && x <= 0.5 ? 1 : 0), 0.5];

// Separable resize of a float image (Float64Array), horizontal pass then vertical, as Pillow does.
function resizeFloat(data, width, height, outW, outH, [filter, support]) {
  const cx = coefficients(width, outW, filter, support), cy = coefficients(height, outH, filter, support);
  const tmp = new Float64Array(outW * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < outW; x++) {
      const { lo, w } = cx[x];
      let s = 0;
      for (let k = 0; k < w.length; k++) s += data[y * width + lo + k] * w[k];
      tmp[y * outW + x] = s;
    }
  }
  const out = new Float64Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const { lo, w } = cy[y];
    for (let x = 0; x < outW; x++) {
      let s = 0;
      for (let k = 0; k < w.length; k++) s += tmp[(lo + k) * outW + x] * w[k];
      out[y * outW + x] = s;
    }
  }
  return out;
}

// 8-connected components of a mask, as row runs [row, start, end).
function components(mask, width, height) {
  const runs = [];
  for (let y = 0; y < height; y++) {
    let x = 0;
    while (x < width) {
      if (mask[y * width + x]) {
        const s = x;
        while (x < width && mask[y * width + x]) x++;
        runs.push([y, s, x]);
      } else x++;
    }
  }
  const parent = runs.map((_, i) => i);
  const find = (i) => { while (parent[i] !== i) { parent[i] = parent[parent[i]]; i = parent[i]; } return i; };
  let prevStart = 0, prevEnd = 0, curStart = 0, row = -2;
  for (let i = 0; i < runs.length; i++) {
    const [r, s, e] = runs[i];
    if (r !== row) {
      if (r === row + 1) { prevStart = curStart; prevEnd = i; } else { prevStart = prevEnd = i; }
      curStart = i;
      row = r;
    }
    for (let j = prevStart; j < prevEnd; j++) {
      if (runs[j][1] <= e && s <= runs[j][2]) { const a = find(i), b = find(j); if (a !== b) parent[a] = b; }
    }
  }
  const groups = new Map();
  runs.forEach((run, i) => { const k = find(i); if (!groups.has(k)) groups.set(k, []); groups.get(k).push(run); });
  return [...groups.values()];
}

function bbox(mask, w, h) {
  let y0 = h, y1 = -1, x0 = w, x1 = -1;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (mask[y * w + x]) {
    if (y < y0) y0 = y; if (y > y1) y1 = y; if (x < x0) x0 = x; if (x > x1) x1 = x;
  }
  return [y0, y1 + 1, x0, x1 + 1];
}

function strokeWidth(mask, w, h) {
  let area = 0, edges = 0;
  for (let y = 0; y < h; y++) {
    let prev = 0;
    for (let x = 0; x < w; x++) { const v = mask[y * w + x]; area += v; edges += v !== prev ? 1 : 0; prev = v; }
    edges += prev;
  }
  for (let x = 0; x < w; x++) {
    let prev = 0;
    for (let y = 0; y < h; y++) { const v = mask[y * w + x]; edges += v !== prev ? 1 : 0; prev = v; }
    edges += prev;
  }
  return area ? (2 * area) / Math.max(edges, 1) : 0;
}

function dilate(mask, w, h, square, invert = false) {
  // erode = not dilate(not mask); outside the image counts as background either way
  const get = (x, y) => (x < 0 || y < 0 || x >= w || y >= h ? 0 : invert ? 1 - mask[y * w + x] : mask[y * w + x]);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let v = get(x, y) | get(x - 1, y) | get(x + 1, y) | get(x, y - 1) | get(x, y + 1);
    if (square) v |= get(x - 1, y - 1) | get(x + 1, y - 1) | get(x - 1, y + 1) | get(x + 1, y + 1);
    out[y * w + x] = invert ? 1 - v : v;
  }
  return out;
}

function normalizeThickness(mask, w, h, C) {
  const pad = 24, W = w + 2 * pad, H = h + 2 * pad;
  let m = new Uint8Array(W * H);
  for (let y = 0; y < h; y++) m.set(mask.subarray(y * w, (y + 1) * w), (y + pad) * W + pad);
  const target = C.stroke_width / C.work_side, tol = C.stroke_tolerance / C.work_side;
  let area0 = 0;
  for (const v of m) area0 += v;
  const ratio = (mm) => { const [y0, y1, x0, x1] = bbox(mm, W, H); return strokeWidth(mm, W, H) / Math.max(y1 - y0, x1 - x0); };
  for (let step = 0; step < 24; step++) {
    const r = ratio(m);
    if (r < target - tol) m = dilate(m, W, H, step % 2 === 1);
    else if (r > target + tol) {
      const thinner = dilate(m, W, H, step % 2 === 1, true);
      let area = 0;
      for (const v of thinner) area += v;
      if (area < 0.4 * area0) break;
      m = thinner;
    } else break;
  }
  return { mask: m, width: W, height: H };
}

// ImageData of an opaque canvas -> { array: Float32Array(784), blank: bool }
export function preprocess(imageData, C) {
  const grey = toGrey(imageData.data, imageData.width, imageData.height);
  const f1 = Math.max(1, Math.ceil(Math.max(grey.width, grey.height) / C.detect_side));
  const low = reduce(grey, f1);
  const lw = low.width, lh = low.height;
  const border = [];
  for (let x = 0; x < lw; x++) border.push(low.data[x], low.data[(lh - 1) * lw + x]);
  for (let y = 1; y < lh - 1; y++) border.push(low.data[y * lw], low.data[y * lw + lw - 1]);
  border.sort((a, b) => a - b);
  const mid = border.length >> 1;
  const background = (border.length % 2 ? border[mid] : (border[mid - 1] + border[mid]) / 2) / 255;
  const sign = background > 0.5 ? -1 : 1;
  const inkLow = new Float64Array(lw * lh);
  let contrast = 0;
  for (let i = 0; i < inkLow.length; i++) {
    inkLow[i] = Math.max(0, sign * (low.data[i] / 255 - background));
    contrast = Math.max(contrast, inkLow[i]);
  }
  if (contrast < C.min_contrast) return { blank: true };
  const detect = new Uint8Array(lw * lh);
  for (let i = 0; i < detect.length; i++) detect[i] = inkLow[i] / contrast >= C.detect_threshold ? 1 : 0;
  const comps = components(detect, lw, lh);
  const sizes = comps.map((c) => c.reduce((n, [, s, e]) => n + e - s, 0));
  const speck = C.speck_fraction * Math.max(...sizes);
  const kept = comps.filter((_, i) => sizes[i] >= speck).flat();
  const dropped = comps.filter((_, i) => sizes[i] < speck).flat();
  const r0 = Math.min(...kept.map((r) => r[0])), r1 = Math.max(...kept.map((r) => r[0])) + 1;
  const c0 = Math.min(...kept.map((r) => r[1])), c1 = Math.max(...kept.map((r) => r[2]));
  const box = [c0 * f1, r0 * f1, Math.min(c1 * f1, grey.width), Math.min(r1 * f1, grey.height)];

  const bw = box[2] - box[0], bh = box[3] - box[1], longest = Math.max(bw, bh), work = C.work_side;
  let region = crop(grey, ...box), factor = 1, sampled;
  if (longest >= 2 * work) {
    factor = Math.floor(longest / work);
    region = reduce(region, factor);
    sampled = Float64Array.from(region.data, (v) => v / 255);
  } else if (longest < work) {
    factor = longest / work;
    const ow = Math.max(1, roundHalfEven(bw / factor)), oh = Math.max(1, roundHalfEven(bh / factor));
    const up = resizeFloat(Float64Array.from(region.data), bw, bh, ow, oh, BILINEAR);
    sampled = up.map((v) => Math.min(255, Math.max(0, Math.round(v))) / 255);
    region = { width: ow, height: oh };
  } else {
    sampled = Float64Array.from(region.data, (v) => v / 255);
  }
  const w = region.width, h = region.height;
  const ink = sampled.map((v) => Math.max(0, sign * (v - background)));
  for (const [r, s, e] of dropped) {
    const ya = Math.max(0, Math.trunc((r * f1 - box[1]) / factor)), yb = Math.max(0, Math.ceil(((r + 1) * f1 - box[1]) / factor));
    const xa = Math.max(0, Math.trunc((s * f1 - box[0]) / factor)), xb = Math.max(0, Math.ceil((e * f1 - box[0]) / factor));
    for (let y = ya; y < Math.min(yb, h); y++) for (let x = xa; x < Math.min(xb, w); x++) ink[y * w + x] = 0;
  }
  let peak = 1e-6;
  for (const v of ink) peak = Math.max(peak, v);
  const mask0 = Uint8Array.from(ink, (v) => (v >= C.work_threshold * peak ? 1 : 0));
  if (!mask0.some((v) => v)) return { blank: true };
  const { mask, width: W, height: H } = normalizeThickness(mask0, w, h, C);

  const [y0, y1, x0, x1] = bbox(mask, W, H);
  const cw = x1 - x0, ch = y1 - y0, s = C.box / Math.max(cw, ch);
  const cropped = new Float64Array(cw * ch);
  for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) cropped[y * cw + x] = mask[(y0 + y) * W + x0 + x];
  const ow = Math.max(1, roundHalfEven(cw * s)), oh = Math.max(1, roundHalfEven(ch * s));
  const shrinking = ow < cw || oh < ch;
  const small = resizeFloat(cropped, cw, ch, ow, oh, shrinking ? BOX : BILINEAR).map((v) => Math.min(1, Math.max(0, v)));

  let total = 0, sy = 0, sx = 0;
  for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) { const v = small[y * ow + x]; total += v; sy += v * y; sx += v * x; }
  const size = C.size;
  const top = Math.min(Math.max(roundHalfEven(C.center[0] - sy / total), 0), size - oh);
  const left = Math.min(Math.max(roundHalfEven(C.center[1] - sx / total), 0), size - ow);
  const array = new Float32Array(size * size);
  for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) array[(top + y) * size + left + x] = small[y * ow + x];
  return { blank: false, array };
}
