"""``vaecore sample --sampler gmm``: the ex-post mixture of a run, fitted once and kept in its folder.

The mixture (:func:`vaecore.samplers.fit_ex_post_gmm`) is fitted to the posterior
means of the ``--split`` images (default: train) of the run's data, and saved as
``<run>/ex_post_gmm_k<K>_<covariance>.npz`` (beside a ``.keras`` file:
``<stem>.ex_post_gmm_k<K>_<covariance>.npz``). The next call reuses it if it was
fitted to the same model file and data settings; otherwise it stops with a
one-line error naming what differs, since replacing a finished fit is only done
when asked (``--refit-gmm``).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Any

from vaecore.cli.config import load_split
from vaecore.cli.flags import CliError

GMM_FIT_SEED = 0  # the fit's own seed: sampling with another --seed reuses the same mixture


def gmm_path(model_arg: str, components: int, covariance: str) -> Path:
    """Where the mixture of ``--model`` is kept."""
    path = Path(model_arg)
    name = f"ex_post_gmm_k{components}_{covariance}.npz"
    return path / name if path.is_dir() else path.with_name(f"{path.stem}.{name}")


def _model_file(model_arg: str) -> Path:
    path = Path(model_arg)
    return path / "model.keras" if path.is_dir() else path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fit_settings(args: argparse.Namespace, cfg: dict[str, Any]) -> dict[str, Any]:
    """What the mixture depends on: the model file's hash, the data and the mixture's own settings."""
    return {
        "model_sha256": _sha256(_model_file(args.model)),
        "dataset": cfg["dataset"],
        "path": cfg.get("path"),
        "binarize": bool(cfg.get("binarize")),
        "resize_mode": cfg.get("resize_mode") or "stretch",
        "split": args.split,
        "limit": args.limit,
    }


def ex_post_gmm(args: argparse.Namespace, model, cfg: dict[str, Any]):
    """The run's mixture: reused from its file, or fitted (and saved) when absent or ``--refit-gmm``."""
    from vaecore.samplers import GaussianMixtureSampler

    path = gmm_path(args.model, args.gmm_components, args.gmm_covariance)
    wanted = fit_settings(args, cfg)
    if path.is_file() and not args.refit_gmm:
        try:
            gmm = GaussianMixtureSampler.load(path)
        except Exception as err:  # noqa: BLE001 - a damaged file: say so, do not replace it unasked
            raise CliError(f"could not read {path} ({err}); --refit-gmm fits it again") from None
        kept = gmm.info.get("fit", {})
        diffs = [f"{k}: {kept.get(k)!r} -> {v!r}" for k, v in wanted.items() if kept.get(k) != v]
        if diffs:
            raise CliError(
                f"{path} was fitted for other settings ({'; '.join(diffs)}); nothing was changed. "
                "Add --refit-gmm to fit it again for these (it replaces that file)"
            )
        print(f"using the ex-post mixture in {path}")
        return gmm
    gmm = _fit(model, cfg, args)
    gmm.info["fit"] = wanted
    gmm.save(path)
    print(
        f"fitted a {args.gmm_components}-component {args.gmm_covariance} Gaussian mixture to "
        f"{gmm.info['num_codes']} posterior means ({args.split} split, "
        f"{gmm.info['iterations']} EM iterations); wrote {path}"
    )
    return gmm


def _fit(model, cfg: dict[str, Any], args: argparse.Namespace):
    """Encode the images batch by batch (the codes only are kept), then fit."""
    import numpy as np

    from vaecore.samplers import fit_ex_post_gmm

    ds = load_split(
        cfg, args.split, limit=args.limit, shuffle=False, batch_size=256, seed=GMM_FIT_SEED
    )
    means = [
        np.asarray(model.encode(batch[0] if isinstance(batch, tuple) else batch)[0]) for batch in ds
    ]
    codes = np.concatenate(means) if means else np.zeros((0, model.latent_dim))
    if len(codes) < args.gmm_components:
        raise CliError(
            f"--gmm-components {args.gmm_components} needs at least as many images; the "
            f"{args.split} split has {len(codes)}"
        )
    return fit_ex_post_gmm(
        codes, components=args.gmm_components, covariance=args.gmm_covariance, seed=GMM_FIT_SEED
    )
