/* vaecore in-page decoder runtime and latent explorer (MIT, part of vaecore).
 *
 * Why our own runtime and not TensorFlow.js or onnxruntime-web: the book's decoders
 * use five operations (dense, conv2d, conv2d-transpose with 'same' padding, a folded
 * batch norm, pointwise activations), and a conditional VAE's a sixth (concat_condition:
 * the K condition values appended to a vector, or to every pixel of a map). Written out
 * here they are about 170 lines with no dependency: the runtime is inlined into every explorer output (about 60 kB), so
 * an explorer works in the rendered book, in Jupyter and in Colab with no kernel,
 * no network and nothing to vendor; TensorFlow.js would add 1-3 MB of script per page
 * (or a CDN), and onnxruntime-web a WebAssembly file that must be served beside it.
 *
 * Layout: activations are NHWC Float32Arrays of one image; weights arrive as one
 * base64 blob of float32, float16 or int8 (per-output-channel scale) tensors,
 * exported by vaecore.web with the kernels already reordered so that every inner
 * loop runs over output channels, contiguously in memory.
 *
 * Speed: every layer runs as matrix products in one small WebAssembly SIMD kernel
 * (vaecore/static/vaecore_gemm.wat, inlined below as 1.7 kB of base64, and again built
 * with relaxed SIMD's fused multiply-add for browsers that have it; 9-15x the plain
 * loops: a 92 px Caltech decoder in about 9 ms instead of 138 ms on one core), with the
 * plain JavaScript loops as the fallback. The explorer decodes at most once
 * per animation frame while a slider is dragged (benchmarks/web_explorer.py).
 */
(function (root) {
  "use strict";
  var VERSION = "5"; // (4: concat_condition and the condition selector; 5: the VQ-VAE code grid)
  if (root.vaecoreWeb && root.vaecoreWeb.version === VERSION) {
    if (typeof module !== "undefined" && module.exports) module.exports = root.vaecoreWeb;
    return;
  }

  // ------------------------------------------------------------------ weights
  var HALF = null;
  function halfTable() {
    if (HALF) return HALF;
    HALF = new Float32Array(65536);
    for (var h = 0; h < 65536; h++) {
      var s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, f = h & 1023, v;
      if (e === 0) v = f * Math.pow(2, -24);
      else if (e === 31) v = f ? NaN : Infinity;
      else v = (1 + f / 1024) * Math.pow(2, e - 15);
      HALF[h] = s * v;
    }
    return HALF;
  }

  function b64bytes(text) {
    if (typeof atob === "undefined") return new Uint8Array(Buffer.from(text, "base64"));
    var bin = atob(text), n = bin.length, out = new Uint8Array(n);
    for (var i = 0; i < n; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function tensor(blob, t) {
    var n = 1, i;
    for (i = 0; i < t.shape.length; i++) n *= t.shape[i];
    var out = new Float32Array(n);
    if (t.dtype === "f32") {
      out.set(new Float32Array(blob.buffer.slice(t.offset, t.offset + 4 * n)));
    } else if (t.dtype === "f16") {
      var half = new Uint16Array(blob.buffer.slice(t.offset, t.offset + 2 * n)), tab = halfTable();
      for (i = 0; i < n; i++) out[i] = tab[half[i]];
    } else if (t.dtype === "i8") {
      var q = new Int8Array(blob.buffer.slice(t.offset, t.offset + n));
      var scale = t.scale, m = scale.length;
      for (i = 0; i < n; i++) out[i] = q[i] * scale[i % m];
    } else {
      throw new Error("vaecore: unknown tensor dtype " + t.dtype);
    }
    return out;
  }

  // ------------------------------------------------------------------ ops
  function erf(x) { // Abramowitz & Stegun 7.1.26, |error| < 1.5e-7
    var s = x < 0 ? -1 : 1;
    x = Math.abs(x);
    var t = 1 / (1 + 0.3275911 * x);
    var y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
    return s * y;
  }
  var ACT = {
    linear: null,
    relu: function (x) { return x > 0 ? x : 0; },
    relu6: function (x) { return x > 0 ? (x < 6 ? x : 6) : 0; },
    leaky_relu: function (x, a) { return x > 0 ? x : a * x; },
    elu: function (x) { return x > 0 ? x : Math.exp(x) - 1; },
    selu: function (x) { return 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (Math.exp(x) - 1)); },
    sigmoid: function (x) { return 1 / (1 + Math.exp(-x)); },
    tanh: Math.tanh,
    softplus: function (x) { return x > 20 ? x : Math.log1p(Math.exp(x)); },
    silu: function (x) { return x / (1 + Math.exp(-x)); },
    gelu: function (x) { return 0.5 * x * (1 + erf(x / Math.SQRT2)); },
    gelu_tanh: function (x) { return 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))); },
  };

  function activate(y, name, alpha) {
    if (!name || name === "linear") return y;
    var f = ACT[name];
    if (f === undefined) throw new Error("vaecore: unknown activation " + name);
    var n = y.length, i;
    if (name === "relu") { for (i = 0; i < n; i++) if (y[i] < 0) y[i] = 0; return y; }
    for (i = 0; i < n; i++) y[i] = f(y[i], alpha);
    return y;
  }

  function dense(x, L) { // W: (in, out)
    var nin = L.nin, nout = L.nout, W = L.W, y = new Float32Array(nout), i, j;
    y.set(L.b);
    for (i = 0; i < nin; i++) {
      var a = x[i];
      if (a === 0) continue;
      var r = i * nout;
      for (j = 0; j < nout; j++) y[j] += a * W[r + j];
    }
    return y;
  }

  function samePad(size, stride, k) { // TensorFlow 'SAME': the padding before
    var out = Math.ceil(size / stride);
    return Math.floor(Math.max((out - 1) * stride + k - size, 0) / 2);
  }

  function conv(x, s, L) { // W: (kh, kw, cin, cout); 'same' padding
    var H = s[0], Wd = s[1], ci = s[2], co = L.cout, kh = L.k[0], kw = L.k[1], sh = L.s[0], sw = L.s[1];
    var Ho = Math.ceil(H / sh), Wo = Math.ceil(Wd / sw), pt = samePad(H, sh, kh), pl = samePad(Wd, sw, kw);
    var W = L.W, b = L.b, y = new Float32Array(Ho * Wo * co);
    for (var oy = 0; oy < Ho; oy++) for (var ox = 0; ox < Wo; ox++) {
      var yo = (oy * Wo + ox) * co, c;
      for (c = 0; c < co; c++) y[yo + c] = b[c];
      for (var ky = 0; ky < kh; ky++) {
        var iy = oy * sh + ky - pt;
        if (iy < 0 || iy >= H) continue;
        for (var kx = 0; kx < kw; kx++) {
          var ix = ox * sw + kx - pl;
          if (ix < 0 || ix >= Wd) continue;
          var xo = (iy * Wd + ix) * ci, wo = (ky * kw + kx) * ci * co;
          for (var i = 0; i < ci; i++) {
            var a = x[xo + i];
            if (a === 0) continue;
            var wb = wo + i * co;
            for (c = 0; c < co; c++) y[yo + c] += a * W[wb + c];
          }
        }
      }
    }
    return [y, [Ho, Wo, co]];
  }

  function convT(x, s, L) { // W: (kh, kw, cin, cout); 'same' padding: output = input * stride
    var H = s[0], Wd = s[1], ci = s[2], co = L.cout, kh = L.k[0], kw = L.k[1], sh = L.s[0], sw = L.s[1];
    var Ho = H * sh, Wo = Wd * sw;
    var pt = Math.floor(Math.max(kh - sh, 0) / 2), pl = Math.floor(Math.max(kw - sw, 0) / 2);
    var W = L.W, b = L.b, y = new Float32Array(Ho * Wo * co), p, c;
    for (p = 0; p < Ho * Wo; p++) for (c = 0; c < co; c++) y[p * co + c] = b[c];
    for (var iy = 0; iy < H; iy++) for (var ix = 0; ix < Wd; ix++) {
      var xo = (iy * Wd + ix) * ci;
      for (var ky = 0; ky < kh; ky++) {
        var oy = iy * sh + ky - pt;
        if (oy < 0 || oy >= Ho) continue;
        for (var kx = 0; kx < kw; kx++) {
          var ox = ix * sw + kx - pl;
          if (ox < 0 || ox >= Wo) continue;
          var yo = (oy * Wo + ox) * co, wo = (ky * kw + kx) * ci * co;
          for (var i = 0; i < ci; i++) {
            var a = x[xo + i];
            if (a === 0) continue;
            var wb = wo + i * co;
            for (c = 0; c < co; c++) y[yo + c] += a * W[wb + c];
          }
        }
      }
    }
    return [y, [Ho, Wo, co]];
  }

  // A conditional VAE's condition: its K values appended to the last axis, to a vector
  // (n,) -> (n + K,) or to every pixel of a map (h, w, c) -> (h, w, c + K).
  function concatCondition(x, s, cond) {
    var c = s[s.length - 1], K = cond.length, P = x.length / c, y = new Float32Array(P * (c + K)), q, k;
    for (q = 0; q < P; q++) {
      var o = q * (c + K), i = q * c;
      for (k = 0; k < c; k++) y[o + k] = x[i + k];
      for (k = 0; k < K; k++) y[o + c + k] = cond[k];
    }
    var shape = s.slice();
    shape[shape.length - 1] = c + K;
    return [y, shape];
  }

  function affine(x, L) { // a batch norm folded to scale * x + shift, per channel
    var c = L.scale.length, n = x.length;
    for (var i = 0; i < n; i++) x[i] = x[i] * L.scale[i % c] + L.shift[i % c];
    return x;
  }

  // ------------------------------------------------------------------ WebAssembly SIMD kernel
  // One kernel, a strided matrix product C += A B with 128-bit SIMD (4 rows x 8 columns per
  // step), to which dense, conv and conv-transpose layers reduce (see WasmNet below); 1.3 kB:
  //   C[m, n] += sum_k A[m * lda + k] * B[k * N + n]   (pointers in bytes, N a multiple of 4)
  // Browsers without WebAssembly SIMD (and `new Network(spec, {backend: "js"})`) run the
  // plain JavaScript loops of dense/conv/convT above, which give the same numbers to ~1e-6.
  // The kernel's text is vaecore/static/vaecore_gemm.wat; GEMM_WASM is it assembled.
  // GEMM_WASM_FMA is the same text with each `f32x4.add(acc, f32x4.mul(a, b))` written as
  // `f32x4.relaxed_madd(a, b, acc)` (relaxed SIMD: a fused multiply-add where the processor
  // has one, about 1.3-1.5x faster), assembled with relaxed SIMD on; it is used where the
  // browser validates it (Chromium since 114), the plain kernel elsewhere.
  var GEMM_WASM = "AGFzbQEAAAABDAFgCH9/f39/f39/AAIMAQNlbnYDbWVtAgABAwIBAAcIAQRnZW1tAAAKwAkBvQkCCn8LeyAEQQJ0IQQgB0ECdCEHIAFBAnQhCwJAA0AgACAIa0EESA0BQQAhCQJAA0AgASAJa0EISA0BIAMgCCAEbGohDCAMIARqIQ0gDSAEaiEOIA4gBGohDyAFIAlBAnRqIRD9DAAAAAAAAAAAAAAAAAAAAAAhFf0MAAAAAAAAAAAAAAAAAAAAACEW/QwAAAAAAAAAAAAAAAAAAAAAIRf9DAAAAAAAAAAAAAAAAAAAAAAhGP0MAAAAAAAAAAAAAAAAAAAAACEZ/QwAAAAAAAAAAAAAAAAAAAAAIRr9DAAAAAAAAAAAAAAAAAAAAAAhG/0MAAAAAAAAAAAAAAAAAAAAACEcIAIhCgNAIBD9AAQAIRMgEP0ABBAhFCAM/QkCACESIBUgEiAT/eYB/eQBIRUgGSASIBT95gH95AEhGSAN/QkCACESIBYgEiAT/eYB/eQBIRYgGiASIBT95gH95AEhGiAO/QkCACESIBcgEiAT/eYB/eQBIRcgGyASIBT95gH95AEhGyAP/QkCACESIBggEiAT/eYB/eQBIRggHCASIBT95gH95AEhHCAMQQRqIQwgDUEEaiENIA5BBGohDiAPQQRqIQ8gECALaiEQIApBAWsiCg0ACyAGIAggB2wgCUECdGpBAHRqIREgESAR/QAEACAV/eQB/QsEACARIBH9AAQQIBn95AH9CwQQIBEgB2ohESARIBH9AAQAIBb95AH9CwQAIBEgEf0ABBAgGv3kAf0LBBAgESAHaiERIBEgEf0ABAAgF/3kAf0LBAAgESAR/QAEECAb/eQB/QsEECARIAdqIREgESAR/QAEACAY/eQB/QsEACARIBH9AAQQIBz95AH9CwQQIAlBCGohCQwACwsgASAJa0EETgRAIAMgCCAEbGohDCAMIARqIQ0gDSAEaiEOIA4gBGohDyAFIAlBAnRqIRD9DAAAAAAAAAAAAAAAAAAAAAAhFf0MAAAAAAAAAAAAAAAAAAAAACEW/QwAAAAAAAAAAAAAAAAAAAAAIRf9DAAAAAAAAAAAAAAAAAAAAAAhGCACIQoDQCAQ/QAEACETIBUgDP0JAgAgE/3mAf3kASEVIBYgDf0JAgAgE/3mAf3kASEWIBcgDv0JAgAgE/3mAf3kASEXIBggD/0JAgAgE/3mAf3kASEYIAxBBGohDCANQQRqIQ0gDkEEaiEOIA9BBGohDyAQIAtqIRAgCkEBayIKDQALIAYgCCAHbCAJQQJ0amohESARIBH9AAQAIBX95AH9CwQAIBEgB2ohESARIBH9AAQAIBb95AH9CwQAIBEgB2ohESARIBH9AAQAIBf95AH9CwQAIBEgB2ohESARIBH9AAQAIBj95AH9CwQACyAIQQRqIQgMAAsLAkADQCAIIABODQFBACEJAkADQCABIAlrQQRIDQEgAyAIIARsaiEMIAUgCUECdGohEP0MAAAAAAAAAAAAAAAAAAAAACEVIAIhCgNAIBUgDP0JAgAgEP0ABAD95gH95AEhFSAMQQRqIQwgECALaiEQIApBAWsiCg0ACyAGIAggB2wgCUECdGpqIREgESAR/QAEACAV/eQB/QsEACAJQQRqIQkMAAsLIAhBAWohCAwACwsL";
  var GEMM_WASM_FMA = "AGFzbQEAAAABDAFgCH9/f39/f39/AAIMAQNlbnYDbWVtAgABAwIBAAcIAQRnZW1tAAAKmQkBlgkCCn8LeyAEQQJ0IQQgB0ECdCEHIAFBAnQhCwJAA0AgACAIa0EESA0BQQAhCQJAA0AgASAJa0EISA0BIAMgCCAEbGohDCAMIARqIQ0gDSAEaiEOIA4gBGohDyAFIAlBAnRqIRD9DAAAAAAAAAAAAAAAAAAAAAAhFf0MAAAAAAAAAAAAAAAAAAAAACEW/QwAAAAAAAAAAAAAAAAAAAAAIRf9DAAAAAAAAAAAAAAAAAAAAAAhGP0MAAAAAAAAAAAAAAAAAAAAACEZ/QwAAAAAAAAAAAAAAAAAAAAAIRr9DAAAAAAAAAAAAAAAAAAAAAAhG/0MAAAAAAAAAAAAAAAAAAAAACEcIAIhCgNAIBD9AAQAIRMgEP0ABBAhFCAM/QkCACESIBIgEyAV/YUCIRUgEiAUIBn9hQIhGSAN/QkCACESIBIgEyAW/YUCIRYgEiAUIBr9hQIhGiAO/QkCACESIBIgEyAX/YUCIRcgEiAUIBv9hQIhGyAP/QkCACESIBIgEyAY/YUCIRggEiAUIBz9hQIhHCAMQQRqIQwgDUEEaiENIA5BBGohDiAPQQRqIQ8gECALaiEQIApBAWsiCg0ACyAGIAggB2wgCUECdGpBAHRqIREgESAR/QAEACAV/eQB/QsEACARIBH9AAQQIBn95AH9CwQQIBEgB2ohESARIBH9AAQAIBb95AH9CwQAIBEgEf0ABBAgGv3kAf0LBBAgESAHaiERIBEgEf0ABAAgF/3kAf0LBAAgESAR/QAEECAb/eQB/QsEECARIAdqIREgESAR/QAEACAY/eQB/QsEACARIBH9AAQQIBz95AH9CwQQIAlBCGohCQwACwsgASAJa0EETgRAIAMgCCAEbGohDCAMIARqIQ0gDSAEaiEOIA4gBGohDyAFIAlBAnRqIRD9DAAAAAAAAAAAAAAAAAAAAAAhFf0MAAAAAAAAAAAAAAAAAAAAACEW/QwAAAAAAAAAAAAAAAAAAAAAIRf9DAAAAAAAAAAAAAAAAAAAAAAhGCACIQoDQCAQ/QAEACETIAz9CQIAIBMgFf2FAiEVIA39CQIAIBMgFv2FAiEWIA79CQIAIBMgF/2FAiEXIA/9CQIAIBMgGP2FAiEYIAxBBGohDCANQQRqIQ0gDkEEaiEOIA9BBGohDyAQIAtqIRAgCkEBayIKDQALIAYgCCAHbCAJQQJ0amohESARIBH9AAQAIBX95AH9CwQAIBEgB2ohESARIBH9AAQAIBb95AH9CwQAIBEgB2ohESARIBH9AAQAIBf95AH9CwQAIBEgB2ohESARIBH9AAQAIBj95AH9CwQACyAIQQRqIQgMAAsLAkADQCAIIABODQFBACEJAkADQCABIAlrQQRIDQEgAyAIIARsaiEMIAUgCUECdGohEP0MAAAAAAAAAAAAAAAAAAAAACEVIAIhCgNAIAz9CQIAIBD9AAQAIBX9hQIhFSAMQQRqIQwgECALaiEQIApBAWsiCg0ACyAGIAggB2wgCUECdGpqIREgESAR/QAEACAV/eQB/QsEACAJQQRqIQkMAAsLIAhBAWohCAwACwsL";
  var GEMM_MODULE, GEMM_KIND = null;
  function gemmModule() {
    if (GEMM_MODULE !== undefined) return GEMM_MODULE;
    GEMM_MODULE = null;
    if (typeof WebAssembly !== "object") return null;
    [["simd-fma", GEMM_WASM_FMA], ["simd", GEMM_WASM]].some(function (k) {
      try {
        var bytes = b64bytes(k[1]);
        if (!WebAssembly.validate(bytes)) return false;
        GEMM_MODULE = new WebAssembly.Module(bytes);
        GEMM_KIND = k[0];
        return true;
      } catch (err) { return false; }
    });
    return GEMM_MODULE;
  }

  function ceil4(n) { return (n + 3) & ~3; }

  /** The spec laid out in one WebAssembly memory: weights (output channels padded to a
   *  multiple of 4), then two activation buffers used in turn. */
  function WasmNet(spec, layers, module) {
    var shape = spec.input_shape.slice(), size = 1, i, maxAct, plan = [], wFloats = 0;
    shape.forEach(function (d) { size *= d; });
    maxAct = ceil4(size);
    for (i = 0; i < layers.length; i++) {
      var L = layers[i], p = { L: L, op: L.op, inShape: shape.slice() };
      if (L.op === "dense") {
        p.nop = ceil4(L.nout); p.wOff = wFloats; wFloats += L.nin * p.nop; shape = [L.nout];
        maxAct = Math.max(maxAct, p.nop);
      } else if (L.op === "reshape") {
        shape = L.shape.slice();
      } else if (L.op === "concat_condition") {
        shape = shape.slice(); shape[shape.length - 1] += L.n;
        var total = 1;
        shape.forEach(function (d) { total *= d; });
        maxAct = Math.max(maxAct, ceil4(total));
      } else if (L.op === "conv" || L.op === "conv_t") {
        var H = shape[0], Wd = shape[1], co = L.cout;
        p.cop = ceil4(co); p.wOff = wFloats; wFloats += L.k[0] * L.k[1] * shape[2] * p.cop;
        shape = L.op === "conv_t" ? [H * L.s[0], Wd * L.s[1], co] : [Math.ceil(H / L.s[0]), Math.ceil(Wd / L.s[1]), co];
        maxAct = Math.max(maxAct, shape[0] * shape[1] * p.cop);
      }
      p.outShape = shape.slice();
      plan.push(p);
    }
    var bytes = 4 * (wFloats + 2 * maxAct) + 64;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
    this.gemm = new WebAssembly.Instance(module, { env: { mem: this.memory } }).exports.gemm;
    this.f32 = new Float32Array(this.memory.buffer);
    this.buf = [wFloats, wFloats + maxAct]; // float offsets of the two activation buffers
    this.plan = plan;
    var f32 = this.f32;
    plan.forEach(function (p) { // weights in, their output channels padded with zeros
      var L = p.L, W = L.W, rows, cols, np, r, c;
      if (p.op === "dense") { rows = L.nin; cols = L.nout; np = p.nop; }
      else if (p.op === "conv" || p.op === "conv_t") { cols = L.cout; np = p.cop; rows = W.length / cols; }
      else return;
      for (r = 0; r < rows; r++) for (c = 0; c < cols; c++) f32[p.wOff + r * np + c] = W[r * cols + c];
    });
  }

  WasmNet.prototype.run = function (input, cond) {
    var f32 = this.f32, gemm = this.gemm, cur = 0, x = this.buf[0], n = input.length, i, j, p;
    for (i = 0; i < n; i++) f32[x + i] = input[i];
    for (var l = 0; l < this.plan.length; l++) {
      p = this.plan[l];
      var L = p.L, y = this.buf[1 - cur];
      if (p.op === "dense") {
        for (j = 0; j < L.nout; j++) f32[y + j] = L.b[j];
        for (; j < p.nop; j++) f32[y + j] = 0;
        gemm(1, p.nop, L.nin, 4 * x, L.nin, 4 * p.wOff, 4 * y, p.nop);
        n = L.nout; cur = 1 - cur; x = y;
      } else if (p.op === "conv" || p.op === "conv_t") {
        n = this._conv(p, x, y); cur = 1 - cur; x = y;
      } else if (p.op === "concat_condition") {
        var ci = p.inShape[p.inShape.length - 1], K = cond.length, P = n / ci, q, k;
        for (q = 0; q < P; q++) {
          var o = y + q * (ci + K), src = x + q * ci;
          for (k = 0; k < ci; k++) f32[o + k] = f32[src + k];
          for (k = 0; k < K; k++) f32[o + ci + k] = cond[k];
        }
        n = P * (ci + K); cur = 1 - cur; x = y;
      } else if (p.op === "affine") {
        var c = L.scale.length;
        for (i = 0; i < n; i++) f32[x + i] = f32[x + i] * L.scale[i % c] + L.shift[i % c];
      } else if (p.op !== "act" && p.op !== "reshape") throw new Error("vaecore: unknown op " + p.op);
      if (L.act) activate(f32.subarray(x, x + n), L.act, L.alpha);
    }
    return f32.slice(x, x + n);
  };

  // conv / conv_t as matrix products: for each kernel tap (ky, kx) and each row, the pixels
  // of that row times the tap's (cin x cout) weights, added into the output pixels they reach.
  WasmNet.prototype._conv = function (p, x, y) {
    var f32 = this.f32, gemm = this.gemm, L = p.L, s = p.inShape, o = p.outShape;
    var H = s[0], Wd = s[1], ci = s[2], Ho = o[0], Wo = o[1], co = L.cout, cop = p.cop;
    var kh = L.k[0], kw = L.k[1], sh = L.s[0], sw = L.s[1], w = p.wOff, P = Ho * Wo, q, c, ky, kx, a0, a1;
    for (q = 0; q < P; q++) {
      var yo = y + q * cop;
      for (c = 0; c < co; c++) f32[yo + c] = L.b[c];
      for (; c < cop; c++) f32[yo + c] = 0;
    }
    if (p.op === "conv_t") {
      var pt = Math.floor(Math.max(kh - sh, 0) / 2), pl = Math.floor(Math.max(kw - sw, 0) / 2);
      for (ky = 0; ky < kh; ky++) for (var iy = 0; iy < H; iy++) {
        var oy = iy * sh + ky - pt;
        if (oy < 0 || oy >= Ho) continue;
        for (kx = 0; kx < kw; kx++) {
          a0 = Math.max(0, Math.ceil((pl - kx) / sw)); a1 = Math.min(Wd - 1, Math.floor((Wo - 1 + pl - kx) / sw));
          if (a1 < a0) continue;
          gemm(a1 - a0 + 1, cop, ci, 4 * (x + (iy * Wd + a0) * ci), ci, 4 * (w + (ky * kw + kx) * ci * cop),
            4 * (y + (oy * Wo + a0 * sw + kx - pl) * cop), sw * cop);
        }
      }
    } else {
      var pt2 = samePad(H, sh, kh), pl2 = samePad(Wd, sw, kw);
      // stride 1: the taps of a kernel row read kw * cin contiguous inputs, one product for
      // the interior pixels; the edge pixels tap by tap
      var lo = sw === 1 ? Math.min(Wo, pl2) : Wo, hi = sw === 1 ? Math.max(lo, Math.min(Wo, Wd - kw + pl2 + 1)) : Wo;
      for (ky = 0; ky < kh; ky++) for (var oy2 = 0; oy2 < Ho; oy2++) {
        var iy2 = oy2 * sh + ky - pt2;
        if (iy2 < 0 || iy2 >= H) continue;
        if (hi > lo) gemm(hi - lo, cop, kw * ci, 4 * (x + (iy2 * Wd + lo - pl2) * ci), ci,
          4 * (w + ky * kw * ci * cop), 4 * (y + (oy2 * Wo + lo) * cop), cop);
        for (kx = 0; kx < kw; kx++) {
          a0 = Math.max(0, Math.ceil((pl2 - kx) / sw)); a1 = Math.min(Wo - 1, Math.floor((Wd - 1 + pl2 - kx) / sw));
          var wb = 4 * (w + (ky * kw + kx) * ci * cop);
          if (a0 < lo) { var e = Math.min(a1, lo - 1); if (e >= a0) gemm(e - a0 + 1, cop, ci, 4 * (x + (iy2 * Wd + a0 * sw + kx - pl2) * ci), sw * ci, wb, 4 * (y + (oy2 * Wo + a0) * cop), cop); }
          var b0 = Math.max(a0, hi);
          if (a1 >= b0) gemm(a1 - b0 + 1, cop, ci, 4 * (x + (iy2 * Wd + b0 * sw + kx - pl2) * ci), sw * ci, wb, 4 * (y + (oy2 * Wo + b0) * cop), cop);
        }
      }
    }
    if (cop !== co) for (q = 0; q < P; q++) for (c = 0; c < co; c++) f32[y + q * co + c] = f32[y + q * cop + c];
    return P * co;
  };

  /** A network from its exported spec: `net.run(Float32Array)` -> Float32Array; a conditional
   *  VAE's network (its spec has `condition_shape: [K]`) takes the K condition values too:
   *  `net.run(z, condition)` (a one-hot row or 0/1 attributes).
   *  `options.backend`: "wasm" (WebAssembly SIMD, the default where the browser has it) or "js". */
  function Network(spec, options) {
    var blob = b64bytes(spec.blob), want = (options && options.backend) || "auto";
    this.spec = spec;
    this.conditionSize = spec.condition_shape ? spec.condition_shape[0] : 0;
    this.layers = spec.layers.map(function (l) {
      var L = Object.assign({}, l);
      ["W", "b", "scale", "shift"].forEach(function (key) {
        if (l[key] !== undefined) L[key] = tensor(blob, spec.tensors[l[key]]);
      });
      return L;
    });
    this.backend = "js";
    this.kernel = null; // with the wasm backend: "simd-fma" (relaxed SIMD) or "simd"
    var module = want === "js" ? null : gemmModule();
    if (module) {
      try {
        this.wasm = new WasmNet(spec, this.layers, module);
        this.backend = "wasm";
        this.kernel = GEMM_KIND;
        this.layers.forEach(function (L) { delete L.W; }); // the weights live in the kernel's memory now
      } catch (err) {
        if (want === "wasm") throw err;
      }
    } else if (want === "wasm") throw new Error("vaecore: this browser has no WebAssembly SIMD");
  }
  Network.prototype._condition = function (condition) {
    var K = this.conditionSize;
    if (!K) {
      if (condition != null) throw new Error("vaecore: this network takes no condition (it is not a conditional VAE's)");
      return null;
    }
    if (condition == null || condition.length !== K) {
      throw new Error("vaecore: this network takes a condition of " + K + " values (a one-hot row or 0/1 attributes), got " +
        (condition == null ? "none" : condition.length));
    }
    return Float32Array.from(condition);
  };
  Network.prototype.run = function (input, condition) {
    var cond = this._condition(condition);
    if (this.wasm) return this.wasm.run(input, cond);
    var x = Float32Array.from(input), shape = this.spec.input_shape.slice(), r;
    for (var i = 0; i < this.layers.length; i++) {
      var L = this.layers[i];
      if (L.op === "dense") { x = dense(x, L); shape = [L.nout]; }
      else if (L.op === "reshape") { shape = L.shape.slice(); }
      else if (L.op === "conv") { r = conv(x, shape, L); x = r[0]; shape = r[1]; }
      else if (L.op === "conv_t") { r = convT(x, shape, L); x = r[0]; shape = r[1]; }
      else if (L.op === "affine") { x = affine(x, L); }
      else if (L.op === "concat_condition") { r = concatCondition(x, shape, cond); x = r[0]; shape = r[1]; }
      else if (L.op !== "act") throw new Error("vaecore: unknown op " + L.op);
      if (L.act) activate(x, L.act, L.alpha);
    }
    return x;
  };

  var api = { version: VERSION, Network: Network, explorers: [], choices: [] };
  root.vaecoreWeb = api;
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  if (typeof document === "undefined") return;

  // ------------------------------------------------------------------ explorer UI
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

  // The explorers' look, once per document: the page theme's font and colours
  // (pydata-sphinx-theme's variables in the book, JupyterLab's in a notebook), readable in
  // light and dark mode; no style is left to the browser's light-only defaults.
  var CSS = [
    ".vaecore-explorer, .vaecore-choice {",
    "  --vc-text: var(--pst-color-text-base, var(--jp-ui-font-color1, currentColor));",
    "  --vc-muted: var(--pst-color-text-muted, var(--jp-ui-font-color1, currentColor));",
    "  --vc-surface: var(--pst-color-surface, var(--jp-layout-color2, rgba(127, 127, 127, 0.12)));",
    "  --vc-border: var(--pst-color-border, var(--jp-border-color1, rgba(127, 127, 127, 0.5)));",
    "  --vc-primary: var(--pst-color-primary, var(--jp-brand-color1, #1976d2));",
    "  font-family: var(--pst-font-family-base, var(--jp-ui-font-family, system-ui, -apple-system, 'Segoe UI', sans-serif));",
    "  font-size: 14px; line-height: 1.4; color: var(--vc-text); }",
    ".vaecore-explorer { display: flex; flex-wrap: wrap; gap: 14px 20px; align-items: flex-start; margin: 6px 0; }",
    ".vaecore-explorer code, .vaecore-choice code { color: inherit; background: none; border: 0; padding: 0;",
    "  font-family: var(--pst-font-family-monospace, var(--jp-code-font-family, ui-monospace, monospace)); font-size: 13px; }",
    ".vaecore-explorer button, .vaecore-explorer select, .vaecore-choice select { font: inherit; font-size: 13px;",
    "  color: var(--vc-text); background: var(--vc-surface); border: 1px solid var(--vc-border); border-radius: 4px; padding: 2px 8px; cursor: pointer; }",
    ".vaecore-explorer button:hover, .vaecore-explorer select:hover, .vaecore-choice select:hover { border-color: var(--vc-primary); }",
    ".vaecore-explorer option, .vaecore-choice option { color: var(--vc-text); background: var(--pst-color-background, var(--jp-layout-color0, Canvas)); }",
    ".vaecore-explorer input[type=range] { accent-color: var(--vc-primary); width: 140px; margin: 0; }",
    ".vaecore-explorer canvas { border: 1px solid var(--vc-border); display: block; }",
    ".vaecore-h { font-weight: 600; margin-bottom: 4px; }",
    ".vaecore-hint { flex-basis: 100%; margin: 0; padding: 6px 10px; border-left: 3px solid var(--vc-primary); background: var(--vc-surface); }",
    ".vaecore-row { display: flex; align-items: center; gap: 6px; margin: 3px 0; }",
    ".vaecore-dim { display: flex; flex-direction: column; width: 48px; line-height: 1.15; }",
    ".vaecore-dim.vaecore-named { width: 118px; }",
    ".vaecore-dim-label, .vaecore-kl { font-size: 12px; color: var(--vc-muted); }",
    ".vaecore-value { width: 44px; text-align: right; }",
    ".vaecore-readout { margin-top: 4px; }",
    ".vaecore-details { flex-basis: 100%; font-size: 12px; color: var(--vc-muted); }",
    ".vaecore-details summary { cursor: pointer; width: max-content; }",
    ".vaecore-details > div { margin: 2px 0 0 14px; overflow-wrap: anywhere; }",
    ".vaecore-faces { flex-basis: 100%; display: flex; flex-wrap: wrap; gap: 6px; }",
    ".vaecore-face { width: 96px; cursor: pointer; border: 3px solid transparent !important; border-radius: 3px; }",
    ".vaecore-face.vaecore-chosen { border-color: var(--vc-primary) !important; }",
    ".vaecore-choice-bar { display: flex; align-items: center; gap: 8px; margin: 6px 0; flex-wrap: wrap; }",
    // a conditional VAE's condition: a row of class buttons (a menu for many), or attribute checkboxes
    ".vaecore-condition { margin-bottom: 8px; max-width: 320px; }",
    ".vaecore-classes, .vaecore-attrs { display: flex; flex-wrap: wrap; gap: 4px 6px; }",
    ".vaecore-explorer button.vaecore-class { min-width: 30px; padding: 2px 6px; }",
    ".vaecore-explorer button.vaecore-class[aria-pressed=true] { border-color: var(--vc-primary); box-shadow: inset 0 0 0 1px var(--vc-primary); font-weight: 700; }",
    ".vaecore-attr { display: inline-flex; align-items: center; gap: 4px; cursor: pointer; }",
    ".vaecore-attr input { accent-color: var(--vc-primary); margin: 0; }",
    // a VQ-VAE's code grid: one cell per code index, the chosen one outlined
    ".vaecore-explorer canvas.vaecore-grid { cursor: pointer; touch-action: none; max-width: 100%; }",
    ".vaecore-explorer input.vaecore-entry { width: 200px; }",
  ].join("\n");

  function injectStyle() {
    if (document.getElementById("vaecore-style-" + VERSION)) return;
    var s = document.createElement("style");
    s.id = "vaecore-style-" + VERSION;
    s.textContent = CSS;
    (document.head || document.documentElement).appendChild(s);
    // the maps are drawn on canvases: draw them again in the new colours when the theme changes
    function redraw() { api.explorers.forEach(function (e) { if (e.map) e.drawMap(); if (e.gridCanvas) e.drawGrid(); }); }
    if (typeof MutationObserver === "function") new MutationObserver(redraw).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme", "class"] });
    if (window.matchMedia) { var mq = matchMedia("(prefers-color-scheme: dark)"); if (mq.addEventListener) mq.addEventListener("change", redraw); }
  }

  function el(tag, attrs, parent) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "style") e.style.cssText = attrs[k];
      else if (k === "text") e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    if (parent) parent.appendChild(e);
    return e;
  }

  function paint(canvas, img, shape) { // img in [0, 1], NHWC
    var H = shape[0], W = shape[1], C = shape[2], ctx = canvas.getContext("2d");
    var data = ctx.createImageData(W, H), d = data.data;
    for (var p = 0; p < H * W; p++) {
      for (var c = 0; c < 3; c++) {
        var v = img[p * C + (C === 1 ? 0 : c)];
        d[4 * p + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
      }
      d[4 * p + 3] = 255;
    }
    ctx.putImageData(data, 0, 0);
  }

  function sigmoidAll(x) { for (var i = 0; i < x.length; i++) x[i] = 1 / (1 + Math.exp(-x[i])); return x; }
  function signed(v) { return (v > 0 ? "+" : "") + v.toFixed(2); }
  function clamp(v, lo, hi) { return Math.min(hi, Math.max(lo, v)); }

  /** One explorer on `root` from the spec Python wrote; `options.inChoice`: shown under a
   *  model menu, which names the model (so no title of its own). */
  function Explorer(root, spec, options) {
    this.root = root;
    this.spec = spec;
    this.options = options || {};
    this.decoder = new Network(spec.decoder);
    this.encoder = spec.encoder ? new Network(spec.encoder) : null;
    this.z = spec.vq ? this._vqInit() : Float32Array.from(spec.base);
    // a conditional VAE's condition values (one-hot class or 0/1 attributes), set by the selector
    this.condition = spec.condition ? Float32Array.from(spec.condition.start) : null;
    this.shape = spec.decoder.output_shape;
    this.rot = { a: 0.6, b: 0.35 };
    this.updates = 0; // decodes shown (at most one per animation frame while dragging)
    this._frame = 0;
    injectStyle();
    root.textContent = "";
    root.classList.add("vaecore-explorer");
    if (spec.hint) el("p", { "class": "vaecore-hint", text: spec.hint }, root);
    if (spec.attributes) this._attributeUI(); else if (spec.vq) this._vqUI(); else this._latentUI();
    this._detailsUI();
    this._selfCheck();
    if (spec.attributes) this.compose(); else if (spec.start) this.setZ(spec.start); else this.refresh();
    api.explorers.push(this);
    root.vaecore = this;
    root.setAttribute("data-ready", "1");
  }

  // A slider's label: z[d], what it moves (dim_labels), and its KL when known.
  Explorer.prototype._dimLabel = function (j) {
    var labels = this.spec.dim_labels, named = labels && labels[j];
    return "z[" + this.spec.dims[j] + "]" + (named ? " (" + named + ")" : "");
  };

  Explorer.prototype._sliderRow = function (parent, j, lim, value, attrs, onInput) {
    var self = this, spec = this.spec, d = spec.dims[j], labels = spec.dim_labels, anyNamed = labels && labels.some(Boolean);
    var row = el("div", { "class": "vaecore-row" }, parent);
    var name = el("span", { "class": "vaecore-dim" + (anyNamed ? " vaecore-named" : "") }, row);
    el("code", { text: "z[" + d + "]" }, name);
    if (labels && labels[j]) el("span", { "class": "vaecore-dim-label", text: labels[j], title: labels[j] }, name);
    attrs.type = "range"; attrs.min = -lim; attrs.max = lim; attrs.step = spec.step; attrs.value = value;
    attrs["data-dim"] = d; attrs["aria-label"] = this._dimLabel(j);
    var s = el("input", attrs, row);
    var out = el("code", { "class": "vaecore-value", text: Number(value).toFixed(2) }, row);
    if (spec.kl && spec.kl[j] != null) el("span", { "class": "vaecore-kl", text: "KL " + Number(spec.kl[j]).toFixed(1), title: "KL of z[" + d + "] in nats (its share of the KL term)" }, row);
    s._readout = out;
    s.addEventListener("input", function () { var v = parseFloat(s.value); out.textContent = v.toFixed(2); onInput(v); });
    return s;
  };

  Explorer.prototype._latentUI = function () { // sliders on latent values, map, drawing pad
    var self = this, spec = this.spec, root = this.root;
    var left = el("div", {}, root);
    if (spec.condition) this._conditionUI(left);
    el("div", { "class": "vaecore-h", text: "Latent values" }, left);
    this.sliders = spec.dims.map(function (d, j) {
      return self._sliderRow(left, j, spec.limits[j], spec.base[d], {}, function (v) { self.z[d] = v; self.schedule(); });
    });
    var buttons = el("div", { style: "margin-top:6px;display:flex;gap:6px" }, left);
    el("button", { text: "Reset", type: "button", title: "Back to the base code" }, buttons).addEventListener("click", function () { self.setZ(spec.base); });
    el("button", { text: "Random z ~ N(0, I)", type: "button", title: "The slider dims drawn from the prior" }, buttons).addEventListener("click", function () {
      var z = Float32Array.from(spec.base);
      spec.dims.forEach(function (d) { var u = 1 - Math.random(), v = Math.random(); z[d] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v); });
      self.setZ(z);
    });
    // decoded image
    var mid = el("div", {}, root);
    el("div", { "class": "vaecore-h", text: "Decoded image" }, mid);
    this.canvas = el("canvas", { width: this.shape[1], height: this.shape[0], "class": "vaecore-decoded", style: "width:" + spec.image_width + "px;image-rendering:pixelated" }, mid);
    this.readout = el("div", { style: "max-width:" + Math.max(spec.image_width, 230) + "px", "class": "vaecore-readout" }, mid);
    // map of reference codes
    if (spec.map) {
      var right = el("div", {}, root);
      el("div", { "class": "vaecore-h", text: spec.map.view === "3d" ? "Where z sits (drag to rotate)" : "Where z sits (click or drag to move z)" }, right);
      this.map = el("canvas", { width: 360, height: 320, "class": "vaecore-map", style: "max-width:100%;touch-action:none;cursor:" + (spec.map.view === "3d" ? "grab" : "crosshair") }, right);
      var legend = el("div", { style: "display:flex;flex-wrap:wrap;gap:6px;max-width:360px;margin-top:4px;font-size:12px" }, right);
      (spec.map.names || []).forEach(function (name, i) {
        var item = el("span", {}, legend);
        el("span", { text: "\u25CF ", style: "color:" + PALETTE[i % 10] }, item);
        item.appendChild(document.createTextNode(name));
      });
      this._setupMap();
    }
    // drawing pad: the encoder runs in the page
    if (this.encoder) {
      var pad = el("div", {}, root);
      el("div", { "class": "vaecore-h", text: "Draw a digit" }, pad);
      this.pad = el("canvas", { width: 196, height: 196, "class": "vaecore-pad", style: "background:#000;touch-action:none;cursor:crosshair" }, pad);
      var pb = el("div", { style: "margin-top:4px;display:flex;gap:6px;align-items:center" }, pad);
      el("button", { text: "Clear", type: "button" }, pb).addEventListener("click", function () { self.clearPad(); });
      this.seen = el("canvas", { width: 28, height: 28, title: "what the encoder sees", style: "width:56px;image-rendering:pixelated;display:inline-block" }, pb);
      el("span", { text: "encoder input", style: "font-size:12px;color:var(--vc-muted)" }, pb);
      this._setupPad();
    }
  };

  // A conditional VAE's condition, beside the sliders: a row of buttons with the class names
  // (a menu when there are many classes), or one checkbox per binary attribute. A change
  // decodes again on the next animation frame, as a slider move does.
  var MAX_CLASS_BUTTONS = 16;
  Explorer.prototype._conditionUI = function (parent) {
    var self = this, c = this.spec.condition;
    var box = el("div", { "class": "vaecore-condition", role: "group", "aria-label": c.label }, parent);
    el("div", { "class": "vaecore-h", text: c.label.charAt(0).toUpperCase() + c.label.slice(1) }, box);
    this.classButtons = [];
    this.classSelect = null;
    this.attrBoxes = [];
    if (c.kind === "classes") {
      if (c.names.length <= MAX_CLASS_BUTTONS) {
        var row = el("div", { "class": "vaecore-classes" }, box);
        c.names.forEach(function (name, k) {
          var b = el("button", { type: "button", "class": "vaecore-class", "data-class": k, "aria-pressed": "false", text: name, title: c.label + " " + name }, row);
          b.addEventListener("click", function () { self.setCondition(k); });
          self.classButtons.push(b);
        });
      } else {
        this.classSelect = el("select", { "class": "vaecore-class-select", "aria-label": c.label }, box);
        c.names.forEach(function (name, k) { el("option", { value: k, text: name }, self.classSelect); });
        this.classSelect.addEventListener("change", function () { self.setCondition(+self.classSelect.value); });
      }
    } else {
      var attrs = el("div", { "class": "vaecore-attrs" }, box);
      c.names.forEach(function (name, j) {
        var lab = el("label", { "class": "vaecore-attr" }, attrs);
        var cb = el("input", { type: "checkbox", "data-attribute": j, "aria-label": name }, lab);
        lab.appendChild(document.createTextNode(name));
        cb.addEventListener("change", function () {
          var v = Array.from(self.condition);
          v[j] = cb.checked ? 1 : 0;
          self.setCondition(v);
        });
        self.attrBoxes.push(cb);
      });
    }
    this._showCondition();
  };

  Explorer.prototype._showCondition = function () {
    var self = this, k = this.classIndex();
    this.classButtons.forEach(function (b, j) { b.setAttribute("aria-pressed", j === k ? "true" : "false"); });
    if (this.classSelect) this.classSelect.value = String(k);
    this.attrBoxes.forEach(function (cb, j) { cb.checked = self.condition[j] > 0.5; });
  };

  /** The chosen class's index (a classes condition), else -1. */
  Explorer.prototype.classIndex = function () {
    var c = this.spec.condition;
    if (!c || c.kind !== "classes") return -1;
    var best = 0;
    for (var k = 1; k < this.condition.length; k++) if (this.condition[k] > this.condition[best]) best = k;
    return best;
  };

  /** A conditional VAE's condition: for classes an index, a class name or a one-hot row; for
   *  binary attributes K values in [0, 1] or {name: on}. Decodes again on the next frame. */
  Explorer.prototype.setCondition = function (value) {
    var c = this.spec.condition, K, v, i;
    if (!c) throw new Error("vaecore: this explorer's model takes no condition");
    K = c.size;
    if (c.kind === "classes" && (typeof value === "number" || typeof value === "string")) {
      var k = typeof value === "string" ? c.names.indexOf(value) : value;
      if (!(k >= 0 && k < K && k === Math.floor(k))) throw new Error("vaecore: no class " + value + " (the classes: " + c.names.join(", ") + ")");
      v = new Float32Array(K); v[k] = 1;
    } else if (c.kind === "binary" && value && !Array.isArray(value) && !ArrayBuffer.isView(value) && typeof value === "object") {
      v = Float32Array.from(this.condition);
      Object.keys(value).forEach(function (name) {
        var j = c.names.indexOf(name);
        if (j < 0) throw new Error("vaecore: no attribute " + name + " (the attributes: " + c.names.join(", ") + ")");
        v[j] = value[name] ? 1 : 0;
      });
    } else {
      if (!value || value.length !== K) throw new Error("vaecore: a condition of " + K + " values, got " + (value && value.length));
      v = Float32Array.from(value);
      for (i = 0; i < K; i++) if (!(v[i] >= 0 && v[i] <= 1)) throw new Error("vaecore: condition values lie in [0, 1]");
    }
    this.condition = v;
    this._showCondition();
    this.schedule();
  };

  /** The condition in words: "class 3", or "attributes: Smiling, Eyeglasses" ("none"). */
  Explorer.prototype.describeCondition = function () {
    var c = this.spec.condition, self = this;
    if (!c) return "";
    if (c.kind === "classes") { // "digit 7" ("class 17", not "class class 17", for a name that says it)
      var name = c.names[this.classIndex()];
      return name.indexOf(c.label + " ") === 0 ? name : c.label + " " + name;
    }
    var on = c.names.filter(function (name, j) { return self.condition[j] > 0.5; });
    return c.label + ": " + (on.length ? on.join(", ") : "none");
  };

  // Developer telemetry, folded away: the page's own check against Keras, decode times,
  // and the line Python prints for the explorer (WebExplorer(...) | NumPy runtime vs Keras).
  Explorer.prototype._detailsUI = function () {
    var box = el("details", { "class": "vaecore-details" }, this.root);
    el("summary", { text: "How this explorer runs" }, box);
    this.check = el("div", { "class": "vaecore-check" }, box);
    this.timing = el("div", { "class": "vaecore-timing" }, box);
    if (this.spec.note) el("div", { "class": "vaecore-note", text: "In Python: " + this.spec.note }, box);
    this.details = box;
  };

  // Attribute explorer: a chosen face's code, plus strength * vector for each named
  // direction, plus offsets on the latent dims with a slider (vaecore.web.attribute_explorer).
  Explorer.prototype._attributeUI = function () {
    var self = this, spec = this.spec, root = this.root, att = spec.attributes;
    this.face = att.face;
    this.strengths = att.strengths.slice();
    this.offsets = att.offsets.slice();
    function row(parent, label, lim, value, attrs, onInput) {
      var r = el("div", { "class": "vaecore-row" }, parent);
      el("span", { text: label, title: label, style: "width:100px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap" }, r);
      attrs.type = "range"; attrs.min = -lim; attrs.max = lim; attrs.step = spec.step; attrs.value = value;
      attrs["aria-label"] = label; attrs.style = "width:130px";
      var s = el("input", attrs, r), out = el("code", { "class": "vaecore-value", text: Number(value).toFixed(2) }, r);
      s._readout = out;
      s.addEventListener("input", function () { out.textContent = parseFloat(s.value).toFixed(2); onInput(parseFloat(s.value)); self.compose(true); });
      return s;
    }
    if (att.title && !this.options.inChoice) el("div", { text: att.title, style: "flex-basis:100%;font-weight:600;font-size:15px" }, root);
    this.thumbs = [];
    if (att.faces) {
      var strip = el("div", { "class": "vaecore-faces", role: "list", "aria-label": "faces to edit" }, root);
      var fs = this.shape;
      this.faceImages = att.faces.map(function (b) {
        var u = b64bytes(b), f = new Float32Array(u.length);
        for (var i = 0; i < u.length; i++) f[i] = u[i] / 255;
        return f;
      });
      this.faceImages.forEach(function (img, k) {
        var c = el("canvas", { width: fs[1], height: fs[0], "class": "vaecore-face", "data-face": k, title: att.names[k], role: "listitem", "aria-label": att.names[k] }, strip);
        paint(c, img, fs);
        c.addEventListener("click", function () { self.setFace(k); });
        self.thumbs.push(c);
      });
    }
    var left = el("div", { style: "min-width:250px;max-width:320px" }, root);
    el("div", { "class": "vaecore-h", text: "Face" }, left);
    this.select = el("select", { "class": "vaecore-face-select", "aria-label": "face", style: "max-width:100%" }, left);
    att.names.forEach(function (name, k) { el("option", { value: k, text: name }, self.select); });
    this.select.value = String(this.face);
    this.select.addEventListener("change", function () { self.setFace(+self.select.value); });
    this.strengthSliders = [];
    if (att.directions.length) {
      el("div", { "class": "vaecore-h", text: "Attribute strengths", style: "margin-top:8px" }, left);
      att.directions.forEach(function (d, j) {
        var s = row(left, d.name, att.strength_limit, self.strengths[j], { "data-direction": j, "class": "vaecore-strength" }, function (v) { self.strengths[j] = v; });
        self.strengthSliders.push(s);
      });
    }
    var mid = el("div", { style: "min-width:250px" }, root);
    el("div", { "class": "vaecore-h", text: "Latent offsets" }, mid);
    this.offsetSliders = spec.dims.map(function (d, j) {
      return self._sliderRow(mid, j, spec.limits[j], self.offsets[j], { "class": "vaecore-offset" }, function (v) { self.offsets[j] = v; self.compose(true); });
    });
    this.sliders = this.strengthSliders.concat(this.offsetSliders);
    var buttons = el("div", { style: "margin-top:6px;display:flex;gap:6px" }, mid);
    el("button", { text: "Reset sliders", type: "button" }, buttons).addEventListener("click", function () { self.resetSliders(); });
    var right = el("div", { style: "display:flex;gap:10px;align-items:flex-start;flex-wrap:wrap" }, root);
    var w = Math.round(spec.image_width * (att.faces ? 0.75 : 1));
    if (att.faces) {
      var o = el("div", {}, right);
      el("div", { "class": "vaecore-h", text: "Chosen face" }, o);
      this.original = el("canvas", { width: this.shape[1], height: this.shape[0], "class": "vaecore-original", style: "width:" + w + "px;image-rendering:pixelated" }, o);
    }
    var dbox = el("div", {}, right);
    el("div", { "class": "vaecore-h", text: "Decoded" }, dbox);
    this.canvas = el("canvas", { width: this.shape[1], height: this.shape[0], "class": "vaecore-decoded", style: "width:" + w + "px;image-rendering:pixelated" }, dbox);
    this.readout = el("div", { "class": "vaecore-readout", style: "flex-basis:100%" }, right);
    this._showFace();
  };

  Explorer.prototype._showFace = function () {
    var self = this;
    if (this.select) this.select.value = String(this.face);
    this.thumbs.forEach(function (c, k) { c.classList.toggle("vaecore-chosen", k === self.face); });
    if (this.original) paint(this.original, this.faceImages[this.face], this.shape);
  };

  /** Attribute explorer: decode codes[face] + sum_j strengths[j] * vector_j, plus the offsets
   *  (`later`: on the next animation frame, as while a slider is dragged). */
  Explorer.prototype.compose = function (later) {
    var att = this.spec.attributes, base = att.codes[this.face], z = this.z, i, j;
    for (i = 0; i < z.length; i++) z[i] = base[i];
    for (j = 0; j < att.directions.length; j++) {
      var s = this.strengths[j], v = att.directions[j].vector;
      if (s) for (i = 0; i < z.length; i++) z[i] = z[i] + s * v[i];
    }
    for (j = 0; j < this.spec.dims.length; j++) if (this.offsets[j]) z[this.spec.dims[j]] = z[this.spec.dims[j]] + this.offsets[j];
    if (later) this.schedule(); else this.refresh();
  };

  Explorer.prototype.setFace = function (k) {
    if (!(k >= 0 && k < this.spec.attributes.codes.length)) throw new Error("vaecore: no face " + k);
    this.face = k;
    this._showFace();
    this.compose();
  };

  /** Attribute explorer: its face, strengths by attribute name and offsets by latent dim. */
  Explorer.prototype.getState = function () {
    var att = this.spec.attributes, self = this, out = { face: this.face, strengths: {}, offsets: {} };
    if (!att) throw new Error("vaecore: getState is for attribute explorers; read data-z");
    att.directions.forEach(function (d, j) { out.strengths[d.name] = self.strengths[j]; });
    this.spec.dims.forEach(function (d, j) { out.offsets[d] = self.offsets[j]; });
    return out;
  };

  /** Attribute explorer: set the face, strengths (by name) and offsets (by dim) at once;
   *  what a state does not name goes to 0, values are clipped to the sliders' ranges. */
  Explorer.prototype.setState = function (state) {
    var att = this.spec.attributes, self = this;
    if (!att) throw new Error("vaecore: setState is for attribute explorers; use setZ");
    var face = state.face == null ? this.face : state.face;
    if (face >= 0 && face < att.codes.length) this.face = face;
    function put(slider, named, key) {
      slider.value = named && key in named ? named[key] : 0;
      var v = parseFloat(slider.value);
      slider._readout.textContent = v.toFixed(2);
      return v;
    }
    this.strengthSliders.forEach(function (s, j) { self.strengths[j] = put(s, state.strengths, att.directions[j].name); });
    this.offsetSliders.forEach(function (s, j) { self.offsets[j] = put(s, state.offsets, self.spec.dims[j]); });
    this._showFace();
    this.compose();
  };

  Explorer.prototype.resetSliders = function () {
    this.strengths = this.strengths.map(function () { return 0; });
    this.offsets = this.offsets.map(function () { return 0; });
    this.sliders.forEach(function (s) { s.value = 0; s._readout.textContent = (0).toFixed(2); });
    this.compose();
  };


  // VQ-VAE explorer (vaecore.web.vq_explorer): the image is decoded from an (h, w) grid of
  // code indices, each cell the vector of one codebook entry. Click a cell, pick its entry
  // with the slider, and the page decodes the new grid (once per animation frame).
  Explorer.prototype._vqInit = function () {
    var vq = this.spec.vq;
    this.codebook = tensor(b64bytes(vq.codebook.blob), vq.codebook);
    this.codeColors = b64bytes(vq.colors);
    this.grid = Int32Array.from(vq.indices);
    this.cell = vq.cell;
    return this.vqCode(this.grid);
  };

  /** The decoder's input for a grid of code indices: each cell's codebook vector, (h, w, D) flat. */
  Explorer.prototype.vqCode = function (grid, out) {
    var D = this.spec.vq.dim, cb = this.codebook, z = out || new Float32Array(grid.length * D);
    for (var c = 0; c < grid.length; c++) {
      var k = grid[c];
      if (!(k >= 0 && k < this.spec.vq.num_codes)) throw new Error("vaecore: no codebook entry " + k);
      for (var d = 0; d < D; d++) z[c * D + d] = cb[k * D + d];
    }
    return z;
  };

  Explorer.prototype._vqUI = function () {
    var self = this, spec = this.spec, vq = spec.vq, root = this.root, h = vq.grid[0], w = vq.grid[1];
    var left = el("div", {}, root);
    if (vq.title) el("div", { "class": "vaecore-h", text: vq.title }, left);
    el("div", { "class": "vaecore-h", text: "Code grid, " + h + " \u00d7 " + w + " (click a cell)" }, left);
    var size = Math.max(10, Math.min(36, Math.floor(288 / Math.max(h, w))));
    this.cellSize = size;
    this.gridCanvas = el("canvas", { width: w * size, height: h * size, "class": "vaecore-grid", role: "img",
      "aria-label": "the code grid: one cell per code index", style: "width:" + w * size + "px" }, left);
    this.gridCanvas.addEventListener("pointerdown", function (e) {
      var r = self.gridCanvas.getBoundingClientRect();
      var col = clamp(Math.floor((e.clientX - r.left) / r.width * w), 0, w - 1);
      var row = clamp(Math.floor((e.clientY - r.top) / r.height * h), 0, h - 1);
      self.selectCell(row * w + col);
    });
    var row = el("div", { "class": "vaecore-row" }, left);
    el("span", { text: "codebook entry" }, row);
    this.entry = el("input", { type: "range", min: 0, max: vq.num_codes - 1, step: 1, value: this.grid[this.cell],
      "class": "vaecore-entry", "aria-label": "codebook entry of the chosen cell" }, row);
    this.entryOut = el("code", { "class": "vaecore-value", text: String(this.grid[this.cell]) }, row);
    this.entry.addEventListener("input", function () { self.setEntry(parseInt(self.entry.value, 10), true); });
    this.sliders = []; // (the latent explorer's sliders: none here)
    var buttons = el("div", { style: "margin-top:6px;display:flex;gap:6px;flex-wrap:wrap" }, left);
    el("button", { text: "Reset", type: "button", title: "Back to the test image's codes" }, buttons).addEventListener("click", function () { self.setGrid(vq.indices); });
    el("button", { text: "Random entry", type: "button", title: "A random codebook entry for the chosen cell" }, buttons).addEventListener("click", function () {
      self.setEntry(Math.floor(Math.random() * vq.num_codes));
    });
    var right = el("div", { style: "display:flex;gap:10px;align-items:flex-start;flex-wrap:wrap" }, root);
    if (vq.image) {
      var o = el("div", {}, right);
      el("div", { "class": "vaecore-h", text: "Test image" }, o);
      this.original = el("canvas", { width: this.shape[1], height: this.shape[0], "class": "vaecore-original", style: "width:" + spec.image_width + "px;image-rendering:pixelated" }, o);
      var px = b64bytes(vq.image), img = new Float32Array(px.length);
      for (var i = 0; i < px.length; i++) img[i] = px[i] / 255;
      paint(this.original, img, this.shape);
    }
    var dbox = el("div", {}, right);
    el("div", { "class": "vaecore-h", text: "Decoded from the grid" }, dbox);
    this.canvas = el("canvas", { width: this.shape[1], height: this.shape[0], "class": "vaecore-decoded", style: "width:" + spec.image_width + "px;image-rendering:pixelated" }, dbox);
    this.readout = el("div", { "class": "vaecore-readout", style: "flex-basis:100%;max-width:" + (2 * spec.image_width + 10) + "px" }, right);
  };

  /** Choose cell `c` (row * w + column): the slider shows its entry. */
  Explorer.prototype.selectCell = function (c) {
    if (!(c >= 0 && c < this.grid.length)) throw new Error("vaecore: no cell " + c);
    this.cell = c;
    this.entry.value = this.grid[c];
    this.entryOut.textContent = String(this.grid[c]);
    this.root.setAttribute("data-cell", String(c));
    this.drawGrid();
    this.readout.textContent = this.describe();
  };

  /** Give the chosen cell codebook entry `k` and decode (`later`: on the next animation frame). */
  Explorer.prototype.setEntry = function (k, later) {
    if (!(k >= 0 && k < this.spec.vq.num_codes)) throw new Error("vaecore: no codebook entry " + k);
    this.grid[this.cell] = k;
    this.entry.value = k;
    this.entryOut.textContent = String(k);
    this.vqCode(this.grid, this.z);
    if (later) this.schedule(); else this.refresh();
  };

  /** Show a whole grid of indices (h * w, row by row). */
  Explorer.prototype.setGrid = function (indices) {
    for (var c = 0; c < this.grid.length; c++) this.grid[c] = indices[c];
    this.vqCode(this.grid, this.z);
    this.entry.value = this.grid[this.cell];
    this.entryOut.textContent = String(this.grid[this.cell]);
    this.refresh();
  };

  Explorer.prototype.drawGrid = function () {
    var vq = this.spec.vq, h = vq.grid[0], w = vq.grid[1], s = this.cellSize, ctx = this.gridCanvas.getContext("2d");
    var col = this.codeColors, orig = vq.indices, showNumbers = s >= 22 && vq.num_codes <= 1000;
    ctx.textAlign = "center"; ctx.textBaseline = "middle"; ctx.font = Math.floor(s * (vq.num_codes > 99 ? 0.36 : 0.45)) + "px sans-serif";
    for (var c = 0; c < this.grid.length; c++) {
      var k = this.grid[c], x = (c % w) * s, y = Math.floor(c / w) * s, r = col[3 * k], g = col[3 * k + 1], b = col[3 * k + 2];
      ctx.fillStyle = "rgb(" + r + "," + g + "," + b + ")";
      ctx.fillRect(x, y, s, s);
      var dark = 0.299 * r + 0.587 * g + 0.114 * b < 140;
      if (showNumbers) { ctx.fillStyle = dark ? "#fff" : "#000"; ctx.fillText(String(k), x + s / 2, y + s / 2 + 1); }
      if (k !== orig[c]) { // changed from the test image's code: a dashed frame
        ctx.setLineDash([3, 2]); ctx.lineWidth = 2; ctx.strokeStyle = dark ? "#fff" : "#000";
        ctx.strokeRect(x + 2, y + 2, s - 4, s - 4); ctx.setLineDash([]);
      }
    }
    var primary = (getComputedStyle(this.root).getPropertyValue("--vc-primary") || "").trim() || "#1976d2";
    var cx = (this.cell % w) * s, cy = Math.floor(this.cell / w) * s;
    ctx.lineWidth = 4; ctx.strokeStyle = "#000"; ctx.strokeRect(cx + 1, cy + 1, s - 2, s - 2);
    ctx.lineWidth = 2; ctx.strokeStyle = primary; ctx.strokeRect(cx + 1, cy + 1, s - 2, s - 2);
  };

  Explorer.prototype._vqDescribe = function () {
    var vq = this.spec.vq, w = vq.grid[1], c = this.cell, k = this.grid[c], changed = 0;
    for (var i = 0; i < this.grid.length; i++) if (this.grid[i] !== vq.indices[i]) changed++;
    return "cell (row " + Math.floor(c / w) + ", column " + (c % w) + "): entry " + k +
      (k !== vq.indices[c] ? " (the test image's: " + vq.indices[c] + ")" : "") + "; " +
      (changed ? changed + " of " + this.grid.length + " cells changed" : "the test image's codes");
  };

  /** The image of code `z` (given `condition`, default the selector's, for a conditional VAE). */
  Explorer.prototype.decode = function (z, condition) {
    var t0 = performance.now();
    var out = sigmoidAll(this.decoder.run(z, this.condition ? (condition === undefined ? this.condition : condition) : undefined));
    this.lastMs = performance.now() - t0;
    return out;
  };

  Explorer.prototype.setZ = function (z) {
    var self = this;
    if (this.spec.attributes) throw new Error("vaecore: an attribute explorer decodes a face's code plus its sliders; use setFace and the sliders");
    if (this.spec.vq) throw new Error("vaecore: a VQ-VAE explorer decodes a grid of codes; use setEntry, selectCell or setGrid");
    for (var i = 0; i < this.z.length; i++) this.z[i] = z[i];
    this.sliders.forEach(function (s) {
      var d = +s.getAttribute("data-dim");
      s.value = self.z[d];
      s._readout.textContent = self.z[d].toFixed(2);
    });
    this.refresh();
  };

  /** Decode and show on the next animation frame: however many slider events arrive in a
   *  frame, one decode (`pending` is true until it has run). */
  Explorer.prototype.schedule = function () {
    var self = this;
    if (this._frame) return;
    if (typeof requestAnimationFrame !== "function") { this.refresh(); return; }
    this._frame = requestAnimationFrame(function () { self._frame = 0; self.refresh(); });
  };
  Object.defineProperty(Explorer.prototype, "pending", { get: function () { return !!this._frame; } });

  /** What the sliders set, in words: "z[14] = 1.50, z[3] (background) = -0.20" (an attribute
   *  explorer: the face, the attribute strengths and the latent offsets in use). */
  Explorer.prototype.describe = function () {
    var self = this, spec = this.spec, att = spec.attributes;
    if (spec.vq) return this._vqDescribe();
    if (!att) {
      var values = spec.dims.map(function (d, j) { return self._dimLabel(j) + " = " + self.z[d].toFixed(2); }).join(", ");
      return spec.condition ? this.describeCondition() + "; " + values : values;
    }
    var used = att.directions.map(function (d, j) { return self.strengths[j] ? d.name + " " + signed(self.strengths[j]) : null; })
      .concat(spec.dims.map(function (d, j) { return self.offsets[j] ? self._dimLabel(j) + " " + signed(self.offsets[j]) : null; }))
      .filter(Boolean);
    return att.names[this.face] + (used.length ? ": " + used.join(", ") : " (no edit)");
  };

  Explorer.prototype.refresh = function () {
    if (this._frame) { if (typeof cancelAnimationFrame === "function") cancelAnimationFrame(this._frame); this._frame = 0; }
    this.image = this.decode(this.z);
    paint(this.canvas, this.image, this.shape);
    this.updates++;
    this.readout.textContent = this.describe();
    if (this.spec.attributes) this.root.setAttribute("data-face", String(this.face));
    if (this.spec.vq) { this.root.setAttribute("data-grid", JSON.stringify(Array.from(this.grid))); this.root.setAttribute("data-cell", String(this.cell)); this.drawGrid(); }
    this.timing.textContent = "Decoded in " + this.lastMs.toFixed(1) + " ms in your browser (" +
      (this.decoder.backend === "wasm" ? "WebAssembly SIMD" + (this.decoder.kernel === "simd-fma" ? ", fused multiply-add" : "") : "JavaScript") + "); " + this.updates + " images so far.";
    this.root.setAttribute("data-z", JSON.stringify(Array.from(this.z)));
    if (this.condition) {
      this.root.setAttribute("data-condition", JSON.stringify(Array.from(this.condition)));
      if (this.spec.condition.kind === "classes") this.root.setAttribute("data-class", this.spec.condition.names[this.classIndex()]);
    }
    if (this.map) this.drawMap();
  };

  Explorer.prototype._selfCheck = function () { // browser decode vs Keras decode, stored at export
    var chk = this.spec.check;
    if (!chk) return;
    var worst = 0, n = (chk.grids || chk.codes).length;
    for (var k = 0; k < n; k++) {
      var code = chk.grids ? this.vqCode(chk.grids[k]) : Float32Array.from(chk.codes[k]);
      var img = this.decode(code, chk.conditions ? chk.conditions[k] : undefined), ref = b64bytes(chk.images[k]);
      if (ref.length !== img.length) throw new Error("vaecore: check image size mismatch");
      for (var i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(Math.round(Math.min(1, Math.max(0, img[i])) * 255) - ref[i]));
    }
    this.checkError = worst;
    this.root.setAttribute("data-check-error", String(worst));
    this.check.textContent = "Runs in this page (" + this.spec.precision + " weights): on " + n + (chk.grids ? " code grids" : " codes") + " it matches the Keras decoder within " + worst + "/255 per pixel.";
  };

  // 2-D: x, y of the first two slider dims; 3-D: rotated orthographic projection.
  Explorer.prototype._project = function (p) {
    var m = this.spec.map, r = this.rot;
    if (m.view !== "3d") return [p[0], p[1], 0];
    var ca = Math.cos(r.a), sa = Math.sin(r.a), cb = Math.cos(r.b), sb = Math.sin(r.b);
    var x = ca * p[0] - sa * p[1], y0 = sa * p[0] + ca * p[1];
    var y = cb * p[2] - sb * y0, depth = sb * p[2] + cb * y0;
    return [x, y, depth];
  };

  /** 2-D map: the code at canvas point (px, py) in the map's two dims, clamped to their
   *  sliders' ranges and rounded to the slider step, so each thumb shows the value decoded. */
  Explorer.prototype.mapCode = function (px, py) {
    var m = this.spec.map, spec = this.spec, cv = this.map, z = Float32Array.from(this.z), d = m.dims;
    var v = [m.lo[0] + (px - 30) / (cv.width - 40) * (m.hi[0] - m.lo[0]), m.hi[1] - (py - 10) / (cv.height - 40) * (m.hi[1] - m.lo[1])];
    for (var k = 0; k < 2; k++) {
      var j = spec.dims.indexOf(d[k]), lim = spec.limits[j];
      z[d[k]] = +(Math.round(clamp(v[k], -lim, lim) / spec.step) * spec.step).toFixed(6);
      if (Math.abs(z[d[k]]) > lim) z[d[k]] = Math.sign(z[d[k]]) * lim;
    }
    return z;
  };

  Explorer.prototype._setupMap = function () {
    var self = this, m = this.spec.map, cv = this.map, drag = null, moving = false;
    var lim = 0;
    m.lo.forEach(function (v, i) { lim = Math.max(lim, Math.abs(v), Math.abs(m.hi[i])); });
    this.mapScale = m.view === "3d" ? 0.5 * Math.min(cv.width, cv.height) / (lim * 1.5) : null;
    function at(e) { var rect = cv.getBoundingClientRect(); return [(e.clientX - rect.left) * cv.width / rect.width, (e.clientY - rect.top) * cv.height / rect.height]; }
    cv.addEventListener("pointerdown", function (e) {
      if (cv.setPointerCapture && e.pointerId !== undefined) { try { cv.setPointerCapture(e.pointerId); } catch (err) { /* a synthetic event */ } }
      if (m.view === "3d") { drag = [e.clientX, e.clientY, self.rot.a, self.rot.b]; return; }
      moving = true;
      var p = at(e);
      self.setZ(self.mapCode(p[0], p[1]));
    });
    cv.addEventListener("pointermove", function (e) {
      if (moving) { // dragging the marker: the sliders follow at once, the image on the next frame
        var p = at(e), z = self.mapCode(p[0], p[1]);
        m.dims.forEach(function (d) { self.z[d] = z[d]; });
        self.sliders.forEach(function (s) { var d = +s.getAttribute("data-dim"); s.value = self.z[d]; s._readout.textContent = self.z[d].toFixed(2); });
        self.schedule();
        return;
      }
      if (!drag) return;
      self.rot.a = drag[2] + (e.clientX - drag[0]) * 0.01;
      self.rot.b = drag[3] + (e.clientY - drag[1]) * 0.01;
      self.drawMap();
    });
    function up() { drag = null; moving = false; }
    cv.addEventListener("pointerup", up);
    cv.addEventListener("pointercancel", up);
  };

  Explorer.prototype._toCanvas = function (p) {
    var m = this.spec.map, cv = this.map;
    if (m.view === "3d") {
      var q = this._project(p);
      return [cv.width / 2 + q[0] * this.mapScale, cv.height / 2 - q[1] * this.mapScale, q[2]];
    }
    return [30 + (p[0] - m.lo[0]) / (m.hi[0] - m.lo[0]) * (cv.width - 40),
      10 + (m.hi[1] - p[1]) / (m.hi[1] - m.lo[1]) * (cv.height - 40), 0];
  };

  Explorer.prototype._drawPoints = function (ctx, ink) { // ink: the page's text colour (light or dark mode)
    var m = this.spec.map, cv = this.map, self = this, i;
    ctx.clearRect(0, 0, cv.width, cv.height);
    ctx.strokeStyle = ink; ctx.fillStyle = ink; ctx.lineWidth = 1; ctx.font = "12px sans-serif";
    ctx.globalAlpha = 0.6;
    if (m.view === "3d") {
      var L = Math.max.apply(null, m.hi.map(Math.abs).concat(m.lo.map(Math.abs)));
      [[L, 0, 0], [0, L, 0], [0, 0, L]].forEach(function (axis, k) {
        var a = self._toCanvas([0, 0, 0]), b = self._toCanvas(axis);
        ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
        ctx.globalAlpha = 1; ctx.fillText("z[" + m.dims[k] + "]", b[0] + 3, b[1]); ctx.globalAlpha = 0.6;
      });
    } else {
      var o = this._toCanvas([m.lo[0], m.lo[1]]), e = this._toCanvas([m.hi[0], m.hi[1]]);
      ctx.strokeRect(o[0], e[1], e[0] - o[0], o[1] - e[1]);
      // the sliders' ranges: where a click can move z
      var j0 = this.spec.dims.indexOf(m.dims[0]), j1 = this.spec.dims.indexOf(m.dims[1]);
      var l0 = this.spec.limits[j0], l1 = this.spec.limits[j1], a = this._toCanvas([-l0, -l1]), b = this._toCanvas([l0, l1]);
      ctx.setLineDash([3, 3]); ctx.strokeRect(a[0], b[1], b[0] - a[0], a[1] - b[1]); ctx.setLineDash([]);
      ctx.globalAlpha = 1;
      ctx.fillText("z[" + m.dims[0] + "]", (o[0] + e[0]) / 2, cv.height - 8);
      ctx.save(); ctx.translate(13, (o[1] + e[1]) / 2); ctx.rotate(-Math.PI / 2); ctx.fillText("z[" + m.dims[1] + "]", 0, 0); ctx.restore();
    }
    var pts = m.points, n = pts.length, proj = new Array(n);
    for (i = 0; i < n; i++) proj[i] = this._toCanvas(pts[i]);
    var order = Array.from({ length: n }, function (_, k) { return k; });
    if (m.view === "3d") order.sort(function (a, b) { return proj[a][2] - proj[b][2]; });
    ctx.globalAlpha = 0.6;
    order.forEach(function (k) {
      ctx.fillStyle = m.labels ? PALETTE[m.labels[k] % 10] : "#1f77b4";
      ctx.fillRect(proj[k][0] - 1.3, proj[k][1] - 1.3, 2.6, 2.6);
    });
    ctx.globalAlpha = 1;
  };

  // The map: its axes and points drawn once into an offscreen canvas (again when the theme
  // or the 3-D rotation changes), then each update copies it and draws the marker.
  Explorer.prototype.drawMap = function () {
    var m = this.spec.map, cv = this.map, ctx = cv.getContext("2d"), self = this;
    var theme = document.documentElement.getAttribute("data-theme") + "|" + (window.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches);
    var key = theme + "|" + this.rot.a + "|" + this.rot.b;
    if (this._mapKey !== key) {
      if (this._theme !== theme) { this._theme = theme; this._ink = getComputedStyle(this.root).color || "#333"; }
      if (!this._mapBg) { this._mapBg = document.createElement("canvas"); this._mapBg.width = cv.width; this._mapBg.height = cv.height; }
      this._drawPoints(this._mapBg.getContext("2d"), this._ink);
      this._mapKey = key;
    }
    ctx.clearRect(0, 0, cv.width, cv.height); // the page's background shows through
    ctx.drawImage(this._mapBg, 0, 0);
    ctx.globalAlpha = 1;
    var here = this._toCanvas(m.dims.map(function (d) { return self.z[d]; }));
    this.markerXY = [here[0], here[1]];
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 5;
    ctx.beginPath(); ctx.moveTo(here[0] - 7, here[1] - 7); ctx.lineTo(here[0] + 7, here[1] + 7); ctx.moveTo(here[0] + 7, here[1] - 7); ctx.lineTo(here[0] - 7, here[1] + 7); ctx.stroke();
    ctx.strokeStyle = "#000"; ctx.lineWidth = 2.5; ctx.stroke();
  };

  // Drawing pad: the drawing is cropped, scaled into a 20 x 20 box and centred on its
  // centre of mass in 28 x 28, as MNIST's digits were, then encoded to z_mean.
  Explorer.prototype._setupPad = function () {
    var self = this, cv = this.pad, ctx = cv.getContext("2d"), down = false, last = null;
    this.clearPad(true);
    function at(e) { var r = cv.getBoundingClientRect(); return [(e.clientX - r.left) * cv.width / r.width, (e.clientY - r.top) * cv.height / r.height]; }
    cv.addEventListener("pointerdown", function (e) { down = true; last = at(e); cv.setPointerCapture(e.pointerId); self.stroke(last, last); });
    cv.addEventListener("pointermove", function (e) { if (!down) return; var p = at(e); self.stroke(last, p); last = p; });
    cv.addEventListener("pointerup", function () { down = false; self.encodeDrawing(); });
    ctx.lineCap = "round";
  };

  Explorer.prototype.clearPad = function (quiet) {
    var ctx = this.pad.getContext("2d");
    ctx.fillStyle = "#000"; ctx.fillRect(0, 0, this.pad.width, this.pad.height);
    if (!quiet) this.seen.getContext("2d").clearRect(0, 0, 28, 28);
  };

  Explorer.prototype.stroke = function (a, b) {
    var ctx = this.pad.getContext("2d");
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 16; ctx.lineCap = "round";
    ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
  };

  Explorer.prototype.padImage = function () {
    var cv = this.pad, W = cv.width, H = cv.height, src = cv.getContext("2d").getImageData(0, 0, W, H).data;
    var x0 = W, y0 = H, x1 = -1, y1 = -1, x, y;
    for (y = 0; y < H; y++) for (x = 0; x < W; x++) if (src[4 * (y * W + x)] > 20) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    var img = new Float32Array(28 * 28);
    if (x1 < 0) return img;
    var side = Math.max(x1 - x0 + 1, y1 - y0 + 1), f = 20 / side;
    var tmp = document.createElement("canvas"); tmp.width = 28; tmp.height = 28;
    var t = tmp.getContext("2d");
    t.imageSmoothingEnabled = true; t.imageSmoothingQuality = "high";
    var w = (x1 - x0 + 1) * f, h = (y1 - y0 + 1) * f;
    t.drawImage(cv, x0, y0, x1 - x0 + 1, y1 - y0 + 1, 0, 0, w, h);
    var g = t.getImageData(0, 0, 28, 28).data, m = 0, mx = 0, my = 0;
    for (y = 0; y < 28; y++) for (x = 0; x < 28; x++) { var v = g[4 * (y * 28 + x)] / 255; m += v; mx += v * x; my += v * y; }
    var dx = Math.round(14 - (m ? mx / m : w / 2)), dy = Math.round(14 - (m ? my / m : h / 2));
    for (y = 0; y < 28; y++) for (x = 0; x < 28; x++) {
      var sx = x - dx, sy = y - dy;
      if (sx >= 0 && sx < 28 && sy >= 0 && sy < 28) img[y * 28 + x] = g[4 * (sy * 28 + sx)] / 255;
    }
    return img;
  };

  Explorer.prototype.encodeDrawing = function () {
    var img = this.padImage();
    this.padInput = Array.from(img);
    paint(this.seen, img, [28, 28, 1]);
    var t0 = performance.now();
    var zm = this.encoder.run(img, this.condition || undefined);
    this.encodeMs = performance.now() - t0;
    this.drawnZ = Array.from(zm);
    this.root.setAttribute("data-drawn-z", JSON.stringify(this.drawnZ));
    this.setZ(zm);
  };

  // ------------------------------------------------------------------ a choice of models
  /** Several explorers behind one menu (e.g. one model per beta). Each is built the first
   *  time it is chosen; attribute explorers pass on the face and the attribute strengths
   *  (the same attribute means the same thing in every model; a latent dim does not, so
   *  offsets start at 0). */
  function Choice(root, spec) {
    var self = this;
    this.root = root;
    this.spec = spec;
    this.explorers = [];
    this.current = null;
    injectStyle();
    root.textContent = "";
    if (spec.hint) el("p", { "class": "vaecore-hint", text: spec.hint }, root);
    var bar = el("div", { "class": "vaecore-choice-bar" }, root);
    if (spec.title) el("span", { text: spec.title, style: "font-weight:600" }, bar);
    // the menu names each model once: "beta: [1]" for the names "beta 1", "beta 2", ...
    var prefix = spec.label + " ", strip = spec.names.every(function (n) { return n.indexOf(prefix) === 0 && n.length > prefix.length; });
    el("label", { text: spec.label + ":", "for": root.id + "-menu" }, bar);
    this.select = el("select", { "class": "vaecore-model-select", "aria-label": spec.label, id: root.id + "-menu" }, bar);
    spec.names.forEach(function (name, k) { el("option", { value: k, text: strip ? name.slice(prefix.length) : name }, self.select); });
    this.select.addEventListener("change", function () { self.show(+self.select.value); });
    this.boxes = spec.names.map(function (name) {
      return el("div", { "class": "vaecore-choice-item", "data-model": name, style: "display:none" }, root);
    });
    if (spec.note) {
      var box = el("details", { "class": "vaecore-details", style: "margin-top:4px" }, root);
      el("summary", { text: "How these explorers run" }, box);
      el("div", { "class": "vaecore-note", text: "In Python: " + spec.note }, box);
    }
    this.show(spec.start);
    api.choices.push(this);
    root.vaecore = this;
    root.setAttribute("data-ready", "1");
  }

  Choice.prototype.show = function (k) {
    if (!(k >= 0 && k < this.spec.names.length)) throw new Error("vaecore: no model " + k);
    var prev = this.current === null ? null : this.explorers[this.current];
    var state = prev && prev.spec.attributes ? prev.getState() : null;
    if (!this.explorers[k]) {
      var node = el("div", { "class": "vaecore-explorer", id: this.root.id + "-" + k }, this.boxes[k]);
      try { this.explorers[k] = new Explorer(node, this.spec.explorers[k], { inChoice: true }); } catch (err) {
        node.textContent = "vaecore explorer failed: " + err;
        node.setAttribute("data-error", String(err));
        throw err;
      }
    }
    var next = this.explorers[k];
    if (state && next.spec.attributes && k !== this.current) next.setState({ face: state.face, strengths: state.strengths });
    this.boxes.forEach(function (b, j) { b.style.display = j === k ? "" : "none"; });
    this.current = k;
    this.select.value = String(k);
    this.root.setAttribute("data-model", this.spec.names[k]);
    return next;
  };

  api.Explorer = Explorer;
  api.Choice = Choice;
  /** Mount a choice of explorers on the element with id `id`. */
  api.mountChoice = function (id, spec) {
    var node = document.getElementById(id);
    if (!node || node.getAttribute("data-ready")) return node && node.vaecore;
    try { return new Choice(node, spec); } catch (err) {
      node.textContent = "vaecore explorer failed: " + err;
      node.setAttribute("data-error", String(err));
      throw err;
    }
  };
  /** Mount an explorer on the element with id `id`, from the spec Python wrote. */
  api.mount = function (id, spec) {
    var node = document.getElementById(id);
    if (!node || node.getAttribute("data-ready")) return node && node.vaecore;
    try { return new Explorer(node, spec); } catch (err) {
      node.textContent = "vaecore explorer failed: " + err;
      node.setAttribute("data-error", String(err));
      throw err;
    }
  };
})(typeof globalThis !== "undefined" ? globalThis : this);
