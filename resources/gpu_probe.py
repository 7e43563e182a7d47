#!/usr/bin/env python
"""GPU check probe: train a tiny character-level transformer and report each step as a JSON line.

Runs standalone in any conda env's Python 3.8+ with only the standard library and
torch (any torch from 1.10 on; ``scaled_dot_product_attention`` is used when present).
The wizard runs it with the *new env's* Python, so torch never enters the wizard
process; it is also handy by hand::

    python gpu_probe.py --steps 60 --device auto

What it trains: a decoder-only transformer (2 layers, d_model 128, 4 heads, FFN 512,
pre-LayerNorm, GELU, learned positions, causal attention) on the characters of
``tiny_corpus.txt`` next to this file (public-domain English: Jane Austen, *Pride and
Prejudice* ch. 1 (1813); Charles Dickens, *A Tale of Two Cities* ch. 1 (1859);
Abraham Lincoln, the Gettysburg Address, Bliss copy (1863); the Declaration of
Independence, 2nd paragraph (1776)). Batch 32 windows of 64 characters, AdamW
(lr 3e-3), fixed seed. On a 2-core CPU it runs about 25 steps/s; the loss falls from
about ln(vocab) = 4.0 to about 2.5 within 60 steps.

Device (``--device``): ``auto`` picks cuda, then mps, then cpu. Before training on a GPU
one warm-up step runs there; if it fails ("no kernel image is available", "driver too
old", "Torch not compiled with CUDA enabled" for an explicit ``--device cuda``...), or
training on the GPU fails later, the probe prints a ``device_fallback`` event with the
reason and trains on the CPU instead, so the user still gets a result. ``--no-fallback``
turns that into an error.

Output: one JSON object per line on stdout, flushed after each line. Warnings and
tracebacks go to stderr as plain text. Events, in order:

* ``{"event": "device_fallback", "from": "cuda"|"mps", "to": "cpu", "reason": str,
  "after_step": int}`` (only when the GPU failed; ``after_step`` 0 = before training;
  a fallback after step k is followed by a fresh ``start`` and steps from 1 again);
* ``{"event": "start", "torch": str, "python": str, "device": "cuda"|"mps"|"cpu",
  "device_name": str, "cuda_available": bool, "cuda_version": str|null,
  "mps_available": bool, "params": int, "steps": int, "batch": int, "seq": int,
  "vocab": int, "threads": int, "cpu_reason": str|null, "import_seconds": float}``;
  ``cpu_reason`` says why ``auto`` ended on the CPU (no CUDA build, no GPU found...);
* per step ``{"event": "step", "step": i (1-based), "loss": float,
  "elapsed": seconds since step 1 began, "steps_per_second": float,
  "samples_per_second": float, "tokens_per_second": float}`` (rates are averages
  over steps 1..i);
* ``{"event": "done", "device": str, "loss_first": float, "loss_last": float,
  "loss_first_mean": float, "loss_last_mean": float, "loss_fell": bool,
  "steps_per_second": float, "samples_per_second": float, "tokens_per_second": float,
  "seconds": float}``. The means are over the first and last ``min(5, steps // 2)``
  steps; ``loss_fell`` means the last mean is at least 5 % below the first.
* on failure ``{"event": "error", "kind": "no_torch"|"cuda_error"|"runtime",
  "message": str, "device": str|null}`` and a non-zero exit.

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


def emit(event, **fields):
    """Print one JSON event line and flush it."""
    obj = {"event": event}
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


def synchronize(torch, device):
    if device == "cuda":
        torch.cuda.synchronize()
    elif device == "mps":
        mps = getattr(torch, "mps", None)
        if mps is not None and hasattr(mps, "synchronize"):
            mps.synchronize()


def build_model(torch, vocab):
    """The tiny decoder-only transformer (classes made here because torch is imported late)."""
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

    def __init__(self, torch, device, data, vocab, seed):
        self.torch = torch
        self.device = device
        self.vocab = vocab
        torch.manual_seed(seed)
        self.gen = torch.Generator()
        self.gen.manual_seed(seed)
        self.data = data
        self.model = build_model(torch, vocab).to(device)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=LR, weight_decay=0.01)
        self.window = torch.arange(SEQ + 1)

    def params(self):
        return sum(p.numel() for p in self.model.parameters())

    def step(self):
        """One optimizer step on a fresh random batch; returns the loss as a float."""
        torch = self.torch
        starts = torch.randint(0, self.data.numel() - SEQ - 1, (BATCH,), generator=self.gen)
        chunk = self.data[starts[:, None] + self.window[None, :]].to(self.device)
        x, y = chunk[:, :-1], chunk[:, 1:]
        logits = self.model(x)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, self.vocab), y.reshape(-1))
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return float(loss.item())


def load_corpus(torch, path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if len(text) < 4 * (SEQ + 1):
        raise RuntimeError("the corpus %s is too short (%d characters)" % (path, len(text)))
    chars = sorted(set(text))
    index = dict((c, i) for i, c in enumerate(chars))
    return torch.tensor([index[c] for c in text], dtype=torch.long), len(chars)


def try_device(torch, device, data, vocab, seed):
    """Build the model on ``device`` and run one warm-up step; None if it worked, else the reason."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            trainer = Trainer(torch, device, data, vocab, seed)
            loss = trainer.step()
            synchronize(torch, device)
        for w in caught:  # e.g. "sm_120 is not compatible with the current PyTorch installation"
            sys.stderr.write("%s: %s\n" % (getattr(w.category, "__name__", "Warning"), str(w.message).strip()))
        if not math.isfinite(loss):
            return "the warm-up step on %s gave a loss of %r" % (device, loss)
        return None
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        return short(exc)


def train(torch, device, data, vocab, args, info, state):
    """Emit ``start``, one ``step`` per step and ``done``; ``state["step"]`` = last step done. Raises on failure."""
    state["step"] = 0
    trainer = Trainer(torch, device, data, vocab, args.seed)
    start = dict(info)
    start.update(device=device, device_name=device_name(torch, device), params=trainer.params(),
                 steps=args.steps, batch=BATCH, seq=SEQ, vocab=vocab, threads=torch.get_num_threads())
    emit("start", **start)
    losses = []
    t0 = time.perf_counter()
    elapsed = 0.0
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
    k = max(1, min(5, len(losses) // 2))
    first_mean = sum(losses[:k]) / k
    last_mean = sum(losses[-k:]) / k
    rate = len(losses) / elapsed if elapsed > 0 else 0.0
    emit("done", device=device, loss_first=losses[0], loss_last=losses[-1], loss_first_mean=first_mean,
         loss_last_mean=last_mean, loss_fell=bool(last_mean < 0.95 * first_mean), steps_per_second=rate,
         samples_per_second=rate * BATCH, tokens_per_second=rate * BATCH * SEQ, seconds=round(elapsed, 6))


def parse_args(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description="Train a tiny transformer on the best device; JSON lines on stdout.")
    p.add_argument("--steps", type=int, default=60, help="training steps (default 60)")
    p.add_argument("--device", choices=["auto", "cuda", "mps", "cpu"], default="auto",
                   help="auto = cuda, then mps, then cpu (default auto)")
    p.add_argument("--seed", type=int, default=1234, help="random seed (default 1234)")
    p.add_argument("--no-fallback", action="store_true",
                   help="fail (exit 4) instead of training on the CPU when the GPU fails")
    p.add_argument("--corpus", default=os.path.join(here, "tiny_corpus.txt"), help="text to train on")
    args = p.parse_args(argv)
    if args.steps < 1:
        p.error("--steps must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    t_import = time.perf_counter()
    try:
        import torch
    except Exception as exc:  # ImportError, or a broken install raising OSError on a DLL
        traceback.print_exc(file=sys.stderr)
        emit("error", kind="no_torch", device=None,
             message="cannot import torch in %s: %s" % (sys.executable, short(exc)))
        return EXIT_NO_TORCH
    import_seconds = time.perf_counter() - t_import
    device = None
    try:
        cuda_available, cuda_version, cuda_warnings = cuda_state(torch)
        mps_built, mps_available = mps_state(torch)
        device, cpu_reason = pick_device(torch, args.device, cuda_available, cuda_version, cuda_warnings,
                                         mps_built, mps_available)
        info = dict(torch=str(torch.__version__), python=platform.python_version(),
                    cuda_available=cuda_available, cuda_version=cuda_version, mps_available=mps_available,
                    cpu_reason=cpu_reason, import_seconds=round(import_seconds, 6))
        data, vocab = load_corpus(torch, args.corpus)
        if device != "cpu":
            reason = try_device(torch, device, data, vocab, args.seed)
            if reason is not None:
                if args.no_fallback:
                    emit("error", kind="cuda_error", device=device, message=reason)
                    return EXIT_CUDA_ERROR
                emit("device_fallback", to="cpu", reason=reason, after_step=0, **{"from": device})
                info["cpu_reason"] = "the %s device failed: %s" % (device, reason.splitlines()[0])
                device = "cpu"
        state = {"step": 0}
        try:
            train(torch, device, data, vocab, args, info, state)
        except Exception as exc:
            if device == "cpu":
                raise
            traceback.print_exc(file=sys.stderr)
            reason = short(exc)
            if args.no_fallback:
                emit("error", kind="cuda_error", device=device, message=reason)
                return EXIT_CUDA_ERROR
            emit("device_fallback", to="cpu", reason=reason, after_step=state["step"], **{"from": device})
            info["cpu_reason"] = "training on %s failed: %s" % (device, reason.splitlines()[0])
            device = "cpu"
            train(torch, device, data, vocab, args, info, state)
    except KeyboardInterrupt:
        emit("error", kind="runtime", device=device, message="interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        emit("error", kind="runtime", device=device, message=short(exc))
        return EXIT_RUNTIME
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
