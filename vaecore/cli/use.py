"""The commands that use a trained model: ``sample``, ``reconstruct``, ``interpolate``, ``evaluate``.

Each takes ``--model`` (a run folder or a ``.keras`` file) and, for the ones
that read images, the data named in the run's ``config.json`` unless flags say
otherwise. A conditional VAE's commands read the images' labels too
(:mod:`vaecore.cli.conditional`): ``reconstruct`` and ``evaluate`` (log p(x | y))
use each image's own, ``sample`` and ``interpolate`` take ``--condition``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from vaecore.cli.config import _check_dataset, _image_size_for, load_split
from vaecore.cli.flags import CONFIG_FILE, CliError, _one_line

PRIOR_DIR = "prior"  # a VQ-VAE run's PixelCNN prior (vaecore train-prior): <run>/prior/model.keras


def load_prior(model_arg: str):
    """The PixelCNN prior kept beside a VQ-VAE run's model, or None when none was trained."""
    import keras

    path = Path(model_arg)
    file = (path if path.is_dir() else path.parent) / PRIOR_DIR / "model.keras"
    return keras.models.load_model(file, compile=False) if file.is_file() else None


def load_run(model_arg: str):
    """The model from a run folder or a ``.keras`` file, and the run's config ({} if none)."""
    import keras

    import vaecore.models  # noqa: F401 - registers VAE for load_model

    path = Path(model_arg)
    file = path / "model.keras" if path.is_dir() else path
    if not file.is_file():
        raise CliError(
            f"no model at {model_arg} (expected a run folder holding model.keras, or a .keras file)"
        )
    config_path = file.parent / CONFIG_FILE
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    try:
        model = keras.models.load_model(file, compile=False)
    except Exception as err:  # noqa: BLE001 - a corrupt or foreign file is a user error
        raise CliError(f"could not load the model {file}: {_one_line(str(err))}") from None
    return model, config


def _use_data_config(args: argparse.Namespace, run_cfg: dict[str, Any], model) -> dict[str, Any]:
    """Dataset settings for sample/reconstruct/...: flags, else the run's config, else the model's."""
    keys = ("dataset", "data_dir", "path", "column", "binarize", "resize_mode", "condition_column")
    cfg = {k: run_cfg.get(k) for k in keys}
    for key in keys:
        if getattr(args, key, None) is not None:
            cfg[key] = getattr(args, key)
    if cfg["dataset"] is None:
        raise CliError(
            f"--dataset is needed: {args.model} has no {CONFIG_FILE} saying which data it was trained on"
        )
    for key in ("data_dir", "path"):
        if getattr(args, key, None) is not None:
            cfg[key] = str(Path(getattr(args, key)).expanduser().resolve())
    _check_dataset(cfg)
    cfg["likelihood"] = model.likelihood  # a discretized one reads the data quantized
    arch = {"name": model.name, "input": list(model.arch_def["input"])}
    cfg["image_size"], cfg["channels"] = _image_size_for(arch, args.image_size, args.channels)
    return cfg


def _images(args: argparse.Namespace, model, run_cfg: dict[str, Any], n: int | None):
    """The first ``n`` images (all with None) of ``--split`` as a float32 array, their labels
    (a conditional VAE's condition; None for a plain VAE) and the data config."""
    import numpy as np

    from vaecore.arch import condition_spec
    from vaecore.cli.conditional import labelled

    cfg = _use_data_config(args, run_cfg, model)
    spec = condition_spec(model.arch_def) if getattr(model, "conditional", False) else None
    extra = {"labels": True} if spec else {}
    ds = load_split(cfg, args.split, limit=n, shuffle=False, batch_size=256, seed=args.seed, **extra)
    if spec:
        ds = labelled(ds, cfg, spec)
    batches = [batch if isinstance(batch, tuple) else (batch,) for batch in ds]
    x = np.concatenate([np.asarray(b[0]) for b in batches], axis=0)
    y = np.concatenate([np.asarray(b[1]) for b in batches], axis=0) if spec else None
    return x, y, cfg


def _save_grid(images, path: str, nrows: int | None, scale: int, ncols: int | None = None) -> None:
    from vaecore.callbacks import save_image
    from vaecore.plots import montage

    save_image(montage(images, nrows=nrows, ncols=ncols, pad=1), path, scale)
    print(f"wrote {path}")


def cmd_sample(args: argparse.Namespace) -> int:
    """``vaecore sample``: decode ``--num`` codes, from N(0, T^2 I) or the ex-post mixture, with ``--seed``."""
    import numpy as np

    from vaecore.cli.conditional import parse_condition

    model, run_cfg = load_run(args.model)
    if hasattr(model, "num_codes"):  # a VQ-VAE: codes from its PixelCNN prior, else uniform
        if args.sampler == "gmm":
            raise CliError("--sampler gmm fits Gaussian codes; a VQ-VAE's codes are discrete")
        prior = load_prior(args.model)
        if prior is None and args.temperature != 1.0:
            raise CliError("--temperature needs a PixelCNN prior (vaecore train-prior); codes are uniform")
        if prior is None:
            print("note: no prior in the run folder (vaecore train-prior): codes drawn uniformly")
        images = model.sample(args.num, seed=args.seed, temperature=args.temperature, prior=prior)
        _save_grid(np.asarray(images), args.out, None, args.zoom)
        return 0
    given = {}
    if getattr(model, "conditional", False):
        if args.sampler == "gmm":
            raise CliError("--sampler gmm fits codes of a plain VAE; a conditional VAE samples the prior")
        given = {"condition": parse_condition(args.condition, model, args.num)}
    else:
        parse_condition(args.condition, model, args.num)  # refuses --condition
    if args.sampler == "gmm":
        if args.temperature != 1.0:
            raise CliError(
                "--temperature is for --sampler prior; the gmm sampler draws its own codes"
            )
        from vaecore.cli.gmm import ex_post_gmm

        sampler = ex_post_gmm(args, model, _use_data_config(args, run_cfg, model))
        images = model.sample(args.num, seed=args.seed, sampler=sampler)
    else:
        images = model.sample(args.num, seed=args.seed, temperature=args.temperature, **given)
    _save_grid(np.asarray(images), args.out, None, args.zoom)
    return 0


def cmd_reconstruct(args: argparse.Namespace) -> int:
    """``vaecore reconstruct``: a row of inputs above the row of their reconstructions."""
    import numpy as np

    model, run_cfg = load_run(args.model)
    x, y, _ = _images(args, model, run_cfg, args.num)
    recon = np.asarray(model.reconstruct(x) if y is None else model.reconstruct(x, y))
    _save_grid(np.concatenate([x, recon]), args.out, 2, args.zoom, ncols=len(x))
    return 0


def cmd_interpolate(args: argparse.Namespace) -> int:
    """``vaecore interpolate``: one row per pair of images, ``--steps`` images each."""
    import numpy as np

    from vaecore.cli.conditional import parse_condition
    from vaecore.toolbox import interpolate

    if args.steps < 2:
        raise CliError(f"--steps must be at least 2 (the two endpoints), got {args.steps}")
    model, run_cfg = load_run(args.model)
    if hasattr(model, "num_codes"):
        raise CliError("interpolate moves through a continuous latent space; a VQ-VAE's codes are discrete")
    condition = parse_condition(args.condition, model, 1)
    x, y, _ = _images(args, model, run_cfg, 2 * args.pairs)
    pairs = len(x) // 2
    if pairs < 1:
        raise CliError(f"the {args.split} split has fewer than 2 images")

    def given(i: int):  # a conditional VAE: --condition, else the pair's first label
        if y is None:
            return None
        return y[2 * i : 2 * i + 1] if condition is None else condition

    with_inputs = bool(getattr(args, "with_inputs", False))
    rows = [
        interpolate(model, x[2 * i], x[2 * i + 1], args.steps, args.method, condition=given(i),
                    with_inputs=with_inputs)
        for i in range(pairs)
    ]
    _save_grid(np.concatenate(rows), args.out, pairs, args.zoom, ncols=args.steps + 2 * with_inputs)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``vaecore evaluate``: :func:`vaecore.diagnostics.evaluate` on ``--split``, as a table (and JSON)."""
    import numpy as np

    from vaecore import diagnostics

    model, run_cfg = load_run(args.model)
    x, y, cfg = _images(args, model, run_cfg, args.limit)
    if hasattr(model, "num_codes"):
        return _evaluate_vq(args, model, x, cfg)
    r = diagnostics.evaluate(
        model,
        x,
        num_samples=args.k,
        batch_size=args.batch_size,
        seed=args.seed,
        chunk_size=min(args.k, 100),
        **({} if y is None else {"y": y}),
    )
    results = {
        "model": str(args.model),
        "dataset": cfg["dataset"],
        "split": args.split,
        "binarized": bool(cfg.get("binarize")),
        "likelihood": model.likelihood,
        "num_images": r["num_images"],
        "elbo_nats": r["elbo"],
        "reconstruction_nats": r["reconstruction_nll"],
        "kl_nats": r["kl"],
        "k": r["num_samples"],
        "nll_nats": r["nll"],
        "nll_stderr_nats": r["nll_stderr"],
        "bits_per_dim": r["bits_per_dim"],
        "elbo_bits_per_dim": r["elbo_bits_per_dim"],
        "dims": int(np.prod(x.shape[1:])),
        "active_units": r["active_units"],
        "bits_per_dim_is_exact": r["bits_per_dim_exact"],
        "bits_per_dim_note": r["bits_per_dim_note"],
    }
    if y is not None:  # a conditional VAE: every number is given each image's labels
        results["conditional"] = model.condition_kind
    print(_results_table(results))
    if not results["bits_per_dim_is_exact"]:
        print(f"note: bits/dim are not an exact code length: {r['bits_per_dim_note']}")
    if args.json:
        from vaecore.runs import write_json

        write_json(Path(args.json), results)
        print(f"wrote {args.json}")
    return 0


def _evaluate_vq(args: argparse.Namespace, model, x, cfg: dict[str, Any]) -> int:
    """A VQ-VAE's bound -log p_prior(k(x)) - log p(x | k(x)) (:meth:`vaecore.vq.VQVAE.likelihood_bound`)."""
    import numpy as np

    prior = load_prior(args.model)
    b = model.likelihood_bound(x, prior, batch_size=args.batch_size or 256)
    usage = model.code_usage(x)
    mean = {k: float(np.mean(v)) for k, v in b.items()}
    results = {
        "model": str(args.model), "dataset": cfg["dataset"], "split": args.split,
        "likelihood": model.likelihood, "num_images": len(x), "prior": "pixelcnn" if prior else "uniform",
        "nll_bound_nats": mean["nll"], "nll_stderr_nats": float(np.std(b["nll"]) / np.sqrt(len(x))),
        "prior_nats": mean["prior_nll"], "reconstruction_nats": mean["reconstruction_nll"],
        "bits_per_dim": mean["bits_per_dim"], "dims": int(np.prod(x.shape[1:])),
        "codes_used": usage["codes_used"], "perplexity": usage["perplexity"],
    }  # fmt: skip
    rows = [
        ("images", f"{len(x)} ({cfg['dataset']} {args.split})"),
        ("-log p(x) <=", f"{mean['nll']:.3f} +- {results['nll_stderr_nats']:.3f} nats, "
                         f"{mean['bits_per_dim']:.4f} bits/dim ({results['dims']} dims)"),
        (f"prior ({results['prior']})", f"{mean['prior_nll']:.3f} nats"),
        ("reconstruction", f"{mean['reconstruction_nll']:.3f} nats ({model.likelihood})"),
        ("codes", f"{results['codes_used']} of {model.num_codes} used, perplexity {results['perplexity']:.1f}"),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"{name:<{width}}  {value}" for name, value in rows))
    if args.json:
        from vaecore.runs import write_json

        write_json(Path(args.json), results)
        print(f"wrote {args.json}")
    return 0


def _results_table(r: dict[str, Any]) -> str:
    rows = [
        ("images", f"{r['num_images']} ({r['dataset']} {r['split']}, binarized: {r['binarized']})"),
        ("likelihood", r["likelihood"]),
        ("ELBO (1 sample)", f"{r['elbo_nats']:.3f} nats"),
        (
            f"NLL{' -log p(x|y)' if r.get('conditional') else ''} (IWAE, k={r['k']})",
            f"{r['nll_nats']:.3f} +- {r['nll_stderr_nats']:.3f} nats (standard error)",
        ),
        ("NLL bits/dim", f"{r['bits_per_dim']:.4f} ({r['dims']} dims)"),
        ("KL", f"{r['kl_nats']:.3f} nats, {r['active_units']} active units"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)
