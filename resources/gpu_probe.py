#!/usr/bin/env python
"""GPU check probe: train a tiny character-level transformer and report each step as a JSON line.

Runs standalone in any conda env's Python 3.8+ with only the standard library and
torch (any torch from 1.10 on; ``scaled_dot_product_attention`` is used when present).
The wizard runs it with the *new env's* Python, so torch never enters the wizard
process; it is also handy by hand::

    python gpu_probe.py --steps 60 --device auto

What it trains: GPT-2 (transformers' ``GPT2LMHeadModel`` with a small config, built
locally: nothing is downloaded) when transformers is installed in the env, else a
decoder-only transformer (2 layers, d_model 128, 4 heads, FFN 512,
pre-LayerNorm, GELU, learned positions, causal attention) on the characters of
``tiny_corpus.txt`` next to this file (public-domain English: Jane Austen, *Pride and
Prejudice* ch. 1 (1813); Charles Dickens, *A Tale of Two Cities* ch. 1 (1859);
Abraham Lincoln, the Gettysburg Address, Bliss copy (1863); the Declaration of
Independence, 2nd paragraph (1776)). Batch 32 windows of 64 characters, AdamW
(lr 3e-3), fixed seed, bf16 autocast on CUDA GPUs that support it (fp16 with a
gradient scaler on older ones), fp32 elsewhere. Training stops after ``--steps`` steps
or ``--seconds`` seconds (default 20), whichever comes first. Then it measures matmul
throughput and writes a short sample. On a 2-core CPU it runs about 25 steps/s; the loss falls from
about ln(vocab) = 4.0 to about 2.5 within 60 steps.

Device (``--device``): ``auto`` picks cuda, then mps, then cpu. Before training on a GPU
one warm-up step runs there; if it fails ("no kernel image is available", "driver too
old", "Torch not compiled with CUDA enabled" for an explicit ``--device cuda``...), or
training on the GPU fails later, the probe prints a ``device_fallback`` event with the
reason and trains on the CPU instead, so the user still gets a result. ``--no-fallback``
turns that into an error.

Output: JSON lines, schema version 2 (:data:`SCHEMA`). One JSON object per line on stdout,
flushed after each line; every object has ``"event"`` and ``"schema": 2``. Warnings and
tracebacks go to stderr as plain text. A reader judges on the final ``verdict`` event and
need not wait for the process to exit: the probe flushes it and leaves at once
(``os._exit``, skipping torch's teardown). Unknown keys may be added in later minor
changes; a change of meaning bumps ``schema``. Events, in order:

* ``{"event": "info", "torch": str, "python": str, "cuda_version": str|null (torch.version.cuda),
  "hip_version": str|null (torch.version.hip), "cuda_available": bool, "mps_available": bool,
  "device_count": int, "devices": [{"name": str, "compute_capability": "8.9"|null,
  "memory_bytes": int|null}], "cuda_warnings": [str], "transformers": str|null,
  "import_seconds": float}`` (once, after ``import torch``);
* ``{"event": "device_fallback", "from": "cuda"|"mps", "to": "cpu", "reason": str,
  "after_step": int}`` (only when the GPU failed; ``after_step`` 0 = before training;
  a fallback after step k is followed by a fresh ``start`` and steps from 1 again);
* ``{"event": "start", "torch": str, "python": str, "device": "cuda"|"mps"|"cpu",
  "device_name": str, "compute_capability": str|null, "memory_bytes": int|null,
  "cuda_available": bool, "cuda_version": str|null, "mps_available": bool, "model":
  "transformers-gpt2"|"torch.nn", "precision": "bf16"|"fp16"|"fp32", "params": int,
  "steps": int, "budget_seconds": float, "batch": int, "seq": int, "vocab": int,
  "threads": int, "cpu_reason": str|null, "import_seconds": float}``; ``cpu_reason`` says why
  ``auto`` ended on the CPU (no CUDA build, no GPU found...);
* per step ``{"event": "step", "step": i (1-based), "loss": float, "elapsed": seconds since
  step 1 began, "steps_per_second": float, "samples_per_second": float,
  "tokens_per_second": float}`` (rates are averages over steps 1..i);
* ``{"event": "done", "device": str, "loss_first": float, "loss_last": float,
  "loss_first_mean": float, "loss_last_mean": float, "loss_fell": bool,
  "steps_per_second": float, "samples_per_second": float, "tokens_per_second": float,
  "seconds": float, "steps": int, "stopped_by": "steps"|"budget"}``. The means are over the first
  and last ``min(5, steps // 2)`` steps; ``loss_fell`` means the last mean is at least 5 %
  below the first; training stops after ``--steps`` steps or ``--seconds`` seconds;
* ``{"event": "matmul", "device": str, "size": n, "tflops_fp32": float, "tflops_bf16":
  float|null}``: dense n x n matmul throughput (2 n^3 flops each); bf16 only where the
  device supports it (CUDA with bf16), else null;
* ``{"event": "sample", "prompt": str, "text": str}``: characters the trained model writes;
* on failure ``{"event": "error", "kind": "no_torch"|"cuda_error"|"runtime", "message": str,
  "device": str|null}``;
* always last: ``{"event": "verdict", "status": "gpu_works"|"cpu_only"|"gpu_broken"|"failed",
  "headline": str, "reason": str|null, "device": str|null, "device_name": str|null,
  "tokens_per_second": float|null, "tflops_fp32": float|null, "tflops_bf16": float|null,
  "exit_code": int}``. ``gpu_works``: a GPU trained and the loss fell. ``cpu_only``: the CPU
  trained because this torch or machine offers no GPU (``reason`` says which).
  ``gpu_broken``: a GPU is there (CUDA reported an error, or the GPU failed and the CPU took
  over) - ``reason`` holds torch's message. ``failed``: the check could not train.

Exit codes:

* 0: trained to the end (read ``loss_fell`` in ``done``; a loss that does not fall is
  for the caller to judge);
* 2: bad command-line arguments (argparse);
* 3: ``no_torch``: ``import torch`` failed;
* 4: ``cuda_error``: the GPU device (CUDA or MPS) failed and ``--no-fallback`` was given;
* 5: ``runtime``: anything else (corpus missing, loss not finite on the CPU, an
  exception while training on the CPU);
* 130: interrupted (Ctrl+C).
"""

import argparse
import json
import math
import os
import platform
import sys
import time
import traceback
import warnings

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_NO_TORCH = 3
EXIT_CUDA_ERROR = 4
EXIT_RUNTIME = 5
EXIT_INTERRUPTED = 130

D_MODEL = 128
N_LAYERS = 2
N_HEADS = 4
D_FF = 512
SEQ = 64
BATCH = 32
LR = 3e-3
MAX_MESSAGE = 2000
#: The version of the JSON-lines schema (see the module docstring); every event carries it.
SCHEMA = 2
SAMPLE_PROMPT = "It is a truth "
SAMPLE_CHARS = 120


def emit(event, **fields):
    """Print one JSON event line and flush it."""
    obj = {"event": event, "schema": SCHEMA}
    obj.update(fields)
    try:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (cancelled); nothing left to say
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass


def short(exc):
    """A one-paragraph description of an exception: its type and first lines, capped."""
    text = str(exc).strip() or type(exc).__name__
    if not text.startswith(type(exc).__name__):
        text = "%s: %s" % (type(exc).__name__, text)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    text = "\n".join(lines[:6])
    return text[:MAX_MESSAGE]


def cpu_name():
    """A human name for the CPU ("Intel(R) Xeon(R) ..."), best effort."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            import subprocess

            out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, timeout=5, check=False).stdout
            name = out.decode("utf-8", "replace").strip()
            if name:
                return name
        except Exception:
            pass
    return platform.processor() or platform.machine() or "CPU"


def mps_state(torch):
    """(built, available) of Apple's MPS backend; (False, False) on torch without it."""
    mps = getattr(torch.backends, "mps", None)
    if mps is None:
        return False, False
    try:
        return bool(mps.is_built()), bool(mps.is_available())
    except Exception:
        return False, False


def cuda_state(torch):
    """(available, version, warning texts) of CUDA (or ROCm/HIP, which torch also calls cuda)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            available = bool(torch.cuda.is_available())
        except Exception as exc:  # a broken driver can raise here
            available = False
            caught.append(warnings.WarningMessage(short(exc), RuntimeWarning, __file__, 0))
    texts = []
    for w in caught:
        text = str(w.message).strip()
        sys.stderr.write("%s: %s\n" % (getattr(w.category, "__name__", "Warning"), text))
        texts.append(text)
    version = getattr(torch.version, "cuda", None)
    hip = getattr(torch.version, "hip", None)
    if version is None and hip:
        version = "hip " + str(hip)
    return available, version, texts


def pick_device(torch, requested, cuda_available, cuda_version, cuda_warnings, mps_built, mps_available):
    """The device to try and, when ``auto`` ends on the CPU, why (else None)."""
    if requested != "auto":
        return requested, None
    if cuda_available:
        return "cuda", None
    if mps_available:
        return "mps", None
    if cuda_version is None and not mps_built:
        reason = "this PyTorch is a CPU-only build (torch %s has no CUDA support)" % torch.__version__
    elif cuda_version is not None:
        reason = "PyTorch is built for CUDA %s but found no usable NVIDIA GPU (no GPU, or no/too old driver)" % (
            cuda_version)
        if cuda_warnings:
            reason += ": " + cuda_warnings[0].splitlines()[0][:300]
    else:
        reason = "PyTorch has Apple MPS support but MPS is not available on this Mac (needs macOS 14+ on Apple silicon)"
    return "cpu", reason


def device_name(torch, device):
    if device == "cuda":
        try:
            return str(torch.cuda.get_device_name(0))
        except Exception:
            return "CUDA device"
    if device == "mps":
        return "Apple GPU (MPS) on %s" % (platform.machine() or "Mac")
    return cpu_name()


def device_props(torch, device):
    """(compute capability "8.9" or None, total memory in bytes or None) of the first GPU."""
    if device != "cuda":
        return None, None
    try:
        p = torch.cuda.get_device_properties(0)
        return "%d.%d" % (p.major, p.minor), int(p.total_memory)
    except Exception:
        return None, None


def all_devices(torch, cuda_available):
    """Every CUDA/ROCm device torch sees: name, compute capability, memory."""
    out = []
    if not cuda_available:
        return out
    try:
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            out.append({"name": str(p.name), "compute_capability": "%d.%d" % (p.major, p.minor),
                        "memory_bytes": int(p.total_memory)})
    except Exception as exc:
        sys.stderr.write("could not read the CUDA devices: %s\n" % short(exc))
    return out


def transformers_version():
    """transformers' version when it is installed in this Python (not imported yet), else None."""
    try:
        from importlib import metadata
    except ImportError:  # Python < 3.8
        return None
    try:
        return metadata.version("transformers")
    except Exception:
        return None


def autocast_dtype(torch, device):
    """bf16 on CUDA GPUs that support it, fp16 on other CUDA GPUs, None (fp32) elsewhere."""
    if device != "cuda":
        return None
    try:
        if torch.cuda.is_bf16_supported():
            return torch.bfloat16
    except Exception:
        pass
    return torch.float16


def synchronize(torch, device):
    if device == "cuda":
        torch.cuda.synchronize()
    elif device == "mps":
        mps = getattr(torch, "mps", None)
        if mps is not None and hasattr(mps, "synchronize"):
            mps.synchronize()


def build_gpt2(torch, vocab):
    """transformers' GPT-2 with the tiny config (same sizes as the torch.nn model), or None when
    transformers is missing or fails to import."""
    try:
        from transformers import GPT2Config, GPT2LMHeadModel
    except Exception as exc:
        sys.stderr.write("transformers not usable, using the torch.nn model: %s\n" % short(exc))
        return None
    config = GPT2Config(vocab_size=vocab, n_positions=SEQ, n_embd=D_MODEL, n_layer=N_LAYERS, n_head=N_HEADS,
                        n_inner=D_FF, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, use_cache=False)
    model = GPT2LMHeadModel(config)

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super(Wrapped, self).__init__()
            self.gpt2 = model

        def forward(self, idx):
            return self.gpt2(input_ids=idx).logits

    return Wrapped()


def build_model(torch, vocab, use_transformers=False):
    """The tiny decoder-only transformer (classes made here because torch is imported late);
    GPT-2 from transformers when ``use_transformers`` and it imports. Returns (model, kind)."""
    if use_transformers:
        gpt2 = build_gpt2(torch, vocab)
        if gpt2 is not None:
            return gpt2, "transformers-gpt2"
    return build_tiny(torch, vocab), "torch.nn"


def build_tiny(torch, vocab):
    """The torch.nn model."""
    nn = torch.nn
    F = torch.nn.functional
    sdpa = getattr(F, "scaled_dot_product_attention", None)
    head_dim = D_MODEL // N_HEADS

    class Block(nn.Module):
        def __init__(self):
            super(Block, self).__init__()
            self.ln1 = nn.LayerNorm(D_MODEL)
            self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL)
            self.proj = nn.Linear(D_MODEL, D_MODEL)
            self.ln2 = nn.LayerNorm(D_MODEL)
            self.ff = nn.Sequential(nn.Linear(D_MODEL, D_FF), nn.GELU(), nn.Linear(D_FF, D_MODEL))

        def forward(self, x, mask):
            b, t, c = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
            q = q.view(b, t, N_HEADS, head_dim).transpose(1, 2)
            k = k.view(b, t, N_HEADS, head_dim).transpose(1, 2)
            v = v.view(b, t, N_HEADS, head_dim).transpose(1, 2)
            if sdpa is not None:
                y = sdpa(q, k, v, is_causal=True)
            else:
                att = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(head_dim))
                att = att.masked_fill(mask[:t, :t], float("-inf"))
                y = torch.matmul(F.softmax(att, dim=-1), v)
            y = y.transpose(1, 2).contiguous().view(b, t, c)
            x = x + self.proj(y)
            return x + self.ff(self.ln2(x))

    class TinyLM(nn.Module):
        def __init__(self):
            super(TinyLM, self).__init__()
            self.tok = nn.Embedding(vocab, D_MODEL)
            self.pos = nn.Embedding(SEQ, D_MODEL)
            self.blocks = nn.ModuleList([Block() for _ in range(N_LAYERS)])
            self.ln = nn.LayerNorm(D_MODEL)
            self.head = nn.Linear(D_MODEL, vocab)
            self.register_buffer("mask", torch.triu(torch.ones(SEQ, SEQ, dtype=torch.bool), diagonal=1))

        def forward(self, idx):
            t = idx.shape[1]
            pos = torch.arange(t, device=idx.device)
            x = self.tok(idx) + self.pos(pos)[None, :, :]
            for block in self.blocks:
                x = block(x, self.mask)
            return self.head(self.ln(x))

    return TinyLM()


class Trainer(object):
    """Model, optimizer and batches on one device, rebuilt from the seed each time."""

    def __init__(self, torch, device, data, vocab, seed, use_transformers=False):
        self.torch = torch
        self.device = device
        self.vocab = vocab
        torch.manual_seed(seed)
        self.gen = torch.Generator()
        self.gen.manual_seed(seed)
        self.data = data
        model, self.model_kind = build_model(torch, vocab, use_transformers)
        self.model = model.to(device)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=LR, weight_decay=0.01)
        self.window = torch.arange(SEQ + 1)
        self.dtype = autocast_dtype(torch, device)
        self.precision = {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]
        self.scaler = None
        if self.dtype is torch.float16:
            amp = getattr(torch, "amp", None)
            scaler_cls = getattr(amp, "GradScaler", None) if amp is not None else None
            self.scaler = scaler_cls("cuda") if scaler_cls is not None else torch.cuda.amp.GradScaler()

    def params(self):
        return sum(p.numel() for p in self.model.parameters())

    def step(self):
        """One optimizer step on a fresh random batch; returns the loss as a float."""
        torch = self.torch
        starts = torch.randint(0, self.data.numel() - SEQ - 1, (BATCH,), generator=self.gen)
        chunk = self.data[starts[:, None] + self.window[None, :]].to(self.device)
        x, y = chunk[:, :-1], chunk[:, 1:]
        if self.dtype is None:
            logits = self.model(x)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, self.vocab), y.reshape(-1))
        else:
            with torch.autocast(device_type=self.device, dtype=self.dtype):
                logits = self.model(x)
                loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, self.vocab), y.reshape(-1))
        self.opt.zero_grad()
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            loss.backward()
            self.opt.step()
        return float(loss.item())

    def sample(self, index, chars, prompt=SAMPLE_PROMPT, length=SAMPLE_CHARS, seed=7):
        """Characters the model writes after ``prompt`` (sampling at temperature 0.8)."""
        torch = self.torch
        self.model.eval()
        gen = torch.Generator()
        gen.manual_seed(seed)
        idx = [index[c] for c in prompt if c in index] or [0]
        with torch.no_grad():
            for _ in range(length):
                x = torch.tensor([idx[-SEQ:]], dtype=torch.long).to(self.device)
                logits = self.model(x)[0, -1].float().cpu() / 0.8
                probs = torch.softmax(logits, dim=-1)
                idx.append(int(torch.multinomial(probs, 1, generator=gen).item()))
        self.model.train()
        return "".join(chars[i] for i in idx)


def load_corpus(torch, path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if len(text) < 4 * (SEQ + 1):
        raise RuntimeError("the corpus %s is too short (%d characters)" % (path, len(text)))
    chars = sorted(set(text))
    index = dict((c, i) for i, c in enumerate(chars))
    return torch.tensor([index[c] for c in text], dtype=torch.long), chars


def try_device(torch, device, data, vocab, seed, use_transformers):
    """Build the model on ``device`` and run one warm-up step; None if it worked, else the reason
    (the warnings torch gave, such as "sm_120 is not compatible ...", then the error)."""
    texts = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                trainer = Trainer(torch, device, data, vocab, seed, use_transformers)
                loss = trainer.step()
                synchronize(torch, device)
            finally:
                for w in caught:  # e.g. "sm_120 is not compatible with the current PyTorch installation"
                    text = str(w.message).strip()
                    sys.stderr.write("%s: %s\n" % (getattr(w.category, "__name__", "Warning"), text))
                    if "compatible" in text or "CUDA" in text:
                        texts.append(text)
        if not math.isfinite(loss):
            return "the warm-up step on %s gave a loss of %r" % (device, loss)
        return None
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        return "\n".join(texts[:2] + [short(exc)])[:MAX_MESSAGE]


def train(torch, device, data, vocab, args, info, state):
    """Emit ``start``, one ``step`` per step and ``done``; returns the Trainer. ``state["step"]`` = last
    step done. Stops after ``args.steps`` steps or ``args.seconds`` seconds. Raises on failure."""
    state["step"] = 0
    trainer = Trainer(torch, device, data, vocab, args.seed, info.get("transformers") is not None)
    cc, memory = device_props(torch, device)
    start = dict(info)
    for key in ("devices", "device_count", "cuda_warnings", "hip_version", "transformers"):
        start.pop(key, None)
    start.update(device=device, device_name=device_name(torch, device), compute_capability=cc,
                 memory_bytes=memory, model=trainer.model_kind, precision=trainer.precision,
                 params=trainer.params(), steps=args.steps, budget_seconds=args.seconds, batch=BATCH, seq=SEQ,
                 vocab=vocab, threads=torch.get_num_threads())
    emit("start", **start)
    losses = []
    t0 = time.perf_counter()
    elapsed = 0.0
    stopped_by = "steps"
    for i in range(1, args.steps + 1):
        loss = trainer.step()
        if not math.isfinite(loss):
            raise FloatingPointError("the loss became %r at step %d on %s" % (loss, i, device))
        losses.append(loss)
        state["step"] = i
        elapsed = time.perf_counter() - t0
        rate = i / elapsed if elapsed > 0 else 0.0
        emit("step", step=i, loss=loss, elapsed=round(elapsed, 6), steps_per_second=rate,
             samples_per_second=rate * BATCH, tokens_per_second=rate * BATCH * SEQ)
        if elapsed >= args.seconds and i < args.steps:
            stopped_by = "budget"
            break
    k = max(1, min(5, len(losses) // 2))
    first_mean = sum(losses[:k]) / k
    last_mean = sum(losses[-k:]) / k
    rate = len(losses) / elapsed if elapsed > 0 else 0.0
    state["done"] = dict(device=device, loss_first=losses[0], loss_last=losses[-1], loss_first_mean=first_mean,
                         loss_last_mean=last_mean, loss_fell=bool(last_mean < 0.95 * first_mean),
                         steps_per_second=rate, samples_per_second=rate * BATCH,
                         tokens_per_second=rate * BATCH * SEQ, seconds=round(elapsed, 6), steps=len(losses),
                         stopped_by=stopped_by)
    emit("done", **state["done"])
    return trainer


def matmul_tflops(torch, device, dtype, n, seconds):
    """Dense n x n matmul throughput in TFLOP/s (2 n^3 flops per product), over about ``seconds``."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    synchronize(torch, device)
    batch = 10 if device != "cpu" else 1
    iters = 0
    t0 = time.perf_counter()
    while True:
        for _ in range(batch):
            a @ b
        iters += batch
        synchronize(torch, device)
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            break
    return 2.0 * n ** 3 * iters / elapsed / 1e12


def measure_matmul(torch, device, args):
    """The ``matmul`` event's fields (fp32, and bf16 where the device supports it)."""
    n = args.matmul_size or (8192 if device == "cuda" else 1024 if device == "mps" else 512)
    seconds = 1.0 if device != "cpu" else 0.3
    out = {"device": device, "size": n, "tflops_fp32": None, "tflops_bf16": None}
    try:
        out["tflops_fp32"] = matmul_tflops(torch, device, torch.float32, n, seconds)
        if device == "cuda" and torch.cuda.is_bf16_supported():
            out["tflops_bf16"] = matmul_tflops(torch, device, torch.bfloat16, n, seconds)
    except Exception as exc:
        sys.stderr.write("matmul measurement failed: %s\n" % short(exc))
    return out


def parse_args(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description="Train a tiny transformer on the best device; JSON lines on stdout.")
    p.add_argument("--steps", type=int, default=60, help="most training steps (default 60)")
    p.add_argument("--seconds", type=float, default=20.0, help="training time budget in seconds (default 20)")
    p.add_argument("--device", choices=["auto", "cuda", "mps", "cpu"], default="auto",
                   help="auto = cuda, then mps, then cpu (default auto)")
    p.add_argument("--seed", type=int, default=1234, help="random seed (default 1234)")
    p.add_argument("--no-fallback", action="store_true",
                   help="fail (exit 4) instead of training on the CPU when the GPU fails")
    p.add_argument("--no-transformers", action="store_true", help="use the torch.nn model even if transformers is there")
    p.add_argument("--no-extras", action="store_true", help="skip the matmul measurement and the sample")
    p.add_argument("--matmul-size", type=int, default=0, help="matrix size of the matmul measurement (0 = by device)")
    p.add_argument("--corpus", default=os.path.join(here, "tiny_corpus.txt"), help="text to train on")
    args = p.parse_args(argv)
    if args.steps < 1:
        p.error("--steps must be at least 1")
    if args.seconds <= 0:
        p.error("--seconds must be more than 0")
    return args


def judge(state, info, device, fallback_reason):
    """The verdict's status, headline and reason from what happened."""
    done = state.get("done") or {}
    mm = state.get("matmul") or {}
    name = state.get("device_name") or device
    if device in ("cuda", "mps") and done.get("loss_fell"):
        figures = "%.0f tokens/s" % done.get("tokens_per_second", 0.0)
        if mm.get("tflops_bf16"):
            figures += ", %.1f TFLOP/s bf16" % mm["tflops_bf16"]
        elif mm.get("tflops_fp32"):
            figures += ", %.1f TFLOP/s fp32" % mm["tflops_fp32"]
        return "gpu_works", "GPU works: %s trained %d steps (%s)." % (name, done.get("steps", 0), figures), None
    if fallback_reason:
        return "gpu_broken", "GPU present but broken: the %s failed, so the CPU trained instead." % (
            state.get("gpu_tried") or "GPU"), fallback_reason
    if info.get("cuda_version") and info.get("cuda_warnings"):
        return "gpu_broken", "GPU present but broken: CUDA could not start, so the CPU trained instead.", \
            info["cuda_warnings"][0]
    reason = info.get("cpu_reason") or "the CPU was asked for"
    return "cpu_only", "CPU only: %s." % reason, reason


def finish(status, headline, reason, code, state, device):
    """Emit the final ``verdict`` event and leave at once (no torch teardown)."""
    done = state.get("done") or {}
    mm = state.get("matmul") or {}
    emit("verdict", status=status, headline=headline, reason=reason, device=device,
         device_name=state.get("device_name"), tokens_per_second=done.get("tokens_per_second"),
         tflops_fp32=mm.get("tflops_fp32"), tflops_bf16=mm.get("tflops_bf16"), exit_code=code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    os._exit(code)


def main(argv=None):
    args = parse_args(argv)
    state = {"step": 0}
    t_import = time.perf_counter()
    try:
        import torch
    except Exception as exc:  # ImportError, or a broken install raising OSError on a DLL
        traceback.print_exc(file=sys.stderr)
        message = "cannot import torch in %s: %s" % (sys.executable, short(exc))
        emit("error", kind="no_torch", device=None, message=message)
        finish("failed", "The check failed: PyTorch cannot be imported.", message, EXIT_NO_TORCH, state, None)
    import_seconds = time.perf_counter() - t_import
    device = None
    fallback_reason = None
    info = {}
    try:
        cuda_available, cuda_version, cuda_warnings = cuda_state(torch)
        mps_built, mps_available = mps_state(torch)
        device, cpu_reason = pick_device(torch, args.device, cuda_available, cuda_version, cuda_warnings,
                                         mps_built, mps_available)
        tf = None if args.no_transformers else transformers_version()
        info = dict(torch=str(torch.__version__), python=platform.python_version(),
                    cuda_available=cuda_available, cuda_version=cuda_version, mps_available=mps_available,
                    cpu_reason=cpu_reason, import_seconds=round(import_seconds, 6))
        devices = all_devices(torch, cuda_available)
        emit("info", hip_version=getattr(torch.version, "hip", None), device_count=len(devices), devices=devices,
             cuda_warnings=cuda_warnings, transformers=tf, **info)
        info.update(transformers=tf, cuda_warnings=cuda_warnings)
        data, chars = load_corpus(torch, args.corpus)
        vocab = len(chars)
        if device != "cpu":
            reason = try_device(torch, device, data, vocab, args.seed, tf is not None)
            if reason is not None:
                if args.no_fallback:
                    emit("error", kind="cuda_error", device=device, message=reason)
                    finish("gpu_broken", "GPU present but broken: the %s device failed." % device, reason,
                           EXIT_CUDA_ERROR, state, device)
                emit("device_fallback", to="cpu", reason=reason, after_step=0, **{"from": device})
                info["cpu_reason"] = "the %s device failed: %s" % (device, reason.splitlines()[-1])
                state["gpu_tried"] = device
                fallback_reason = reason
                device = "cpu"
        try:
            state["device_name"] = device_name(torch, device)
            trainer = train(torch, device, data, vocab, args, info, state)
        except Exception as exc:
            if device == "cpu":
                raise
            traceback.print_exc(file=sys.stderr)
            reason = short(exc)
            if args.no_fallback:
                emit("error", kind="cuda_error", device=device, message=reason)
                finish("gpu_broken", "GPU present but broken: training on %s failed." % device, reason,
                       EXIT_CUDA_ERROR, state, device)
            emit("device_fallback", to="cpu", reason=reason, after_step=state["step"], **{"from": device})
            info["cpu_reason"] = "training on %s failed: %s" % (device, reason.splitlines()[0])
            state["gpu_tried"] = device
            fallback_reason = reason
            device = "cpu"
            state["device_name"] = device_name(torch, device)
            trainer = train(torch, device, data, vocab, args, info, state)
        if not args.no_extras:
            state["matmul"] = measure_matmul(torch, device, args)
            emit("matmul", **state["matmul"])
            try:
                index = dict((c, i) for i, c in enumerate(chars))
                emit("sample", prompt=SAMPLE_PROMPT, text=trainer.sample(index, chars))
            except Exception as exc:
                sys.stderr.write("sampling failed: %s\n" % short(exc))
    except KeyboardInterrupt:
        emit("error", kind="runtime", device=device, message="interrupted")
        finish("failed", "The check was interrupted.", "interrupted", EXIT_INTERRUPTED, state, device)
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        emit("error", kind="runtime", device=device, message=short(exc))
        finish("failed", "The check failed: %s" % short(exc).splitlines()[0], short(exc), EXIT_RUNTIME, state,
               device)
    status, headline, reason = judge(state, info, device, fallback_reason)
    finish(status, headline, reason, EXIT_OK, state, device)


if __name__ == "__main__":
    sys.exit(main())
