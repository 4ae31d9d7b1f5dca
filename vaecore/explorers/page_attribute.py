"""The in-page attribute explorer: edit a face with attribute vectors and latent offsets, no kernel.

The twin of :class:`vaecore.explorers.kernel_attribute.AttributeExplorer` for one
model; several of them go behind one menu with :func:`vaecore.explorers.page.model_choice`.
:func:`compose_code` computes the code the page decodes, as its JavaScript does.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vaecore._shared import to_numpy
from vaecore.explorers.common import pick_dims
from vaecore.explorers.page import WebExplorer, _self_check, latent_explorer
from vaecore.images import to_uint8

__all__ = ["MAX_FACES", "attribute_explorer", "compose_code"]

MAX_FACES = 64


def compose_code(
    spec: Mapping[str, Any],
    face: int = 0,
    strengths: Mapping[str, float] | Sequence[float] | None = None,
    offsets: Mapping[int, float] | None = None,
) -> np.ndarray:
    """The code an attribute explorer's page decodes, computed as its JavaScript does.

    ``codes[face] + sum_i strengths[i] * vectors[i]``, then each slider's offset added
    on its dim, in float32 step by step (the page's ``Float32Array``). ``spec`` is a
    :class:`WebExplorer`'s ``spec`` made by :func:`attribute_explorer`.
    """
    att = spec.get("attributes")
    if not att:
        raise ValueError("not an attribute explorer's spec (made by web.attribute_explorer)")
    names = [d["name"] for d in att["directions"]]
    if strengths is None:
        strengths = [0.0] * len(names)
    elif isinstance(strengths, Mapping):
        unknown = [a for a in strengths if a not in names]
        if unknown:
            raise ValueError(f"unknown attributes {unknown}; attributes: {names}")
        strengths = [float(strengths.get(a, 0.0)) for a in names]
    if len(strengths) != len(names):
        raise ValueError(f"{len(strengths)} strengths for {len(names)} attributes {names}")
    if not 0 <= face < len(att["codes"]):
        raise ValueError(f"face must be an index below {len(att['codes'])}, got {face}")
    z = np.asarray(att["codes"][face], np.float32).copy()
    for s, d in zip(strengths, att["directions"], strict=True):
        if s:
            z = (z.astype(np.float64) + float(s) * np.asarray(d["vector"], np.float64)).astype(np.float32)
    for dim, value in (offsets or {}).items():
        if int(dim) not in spec["dims"]:
            raise ValueError(f"no slider for latent dim {dim}; sliders: {spec['dims']}")
        z[int(dim)] = np.float32(float(z[int(dim)]) + float(value))
    return z


def _vectors(vectors: Mapping[str, Any] | None, latent: int) -> dict[str, np.ndarray]:
    """Named direction vectors, each of the model's latent length and finite."""
    if vectors is None:
        return {}
    if not isinstance(vectors, Mapping):
        raise ValueError(
            "vectors must be a mapping {name: (latent_dim,) vector}, e.g. {'Smiling': v}, "
            f"got {type(vectors).__name__}"
        )
    out = {}
    for name, v in vectors.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"vector names must be non-empty strings, got {name!r}")
        arr = to_numpy(v, np.float32)
        if arr.size != latent or (arr.ndim > 1 and arr.shape[0] != 1 and arr.ndim != 1):
            raise ValueError(
                f"vector {name!r} has shape {arr.shape}; it must be ({latent},), one value "
                "per latent dimension of this model"
            )
        arr = arr.reshape(-1)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"vector {name!r} has non-finite values")
        out[name] = arr
    return out


def attribute_explorer(
    model: Any,
    faces: Any = None,
    vectors: Mapping[str, Any] | None = None,
    dims: Sequence[int] | None = None,
    *,
    codes: Any = None,
    names: Sequence[str] | None = None,
    max_sliders: int = 6,
    strength_range: float = 2.0,
    slider_range: float = 3.0,
    step: float = 0.05,
    image_width: int = 192,
    precision: str = "auto",
    face: int = 0,
    strengths: Mapping[str, float] | None = None,
    offsets: Mapping[int, float] | None = None,
    title: str | None = None,
    check_codes: int = 4,
    seed: int = 0,
    hint: str | None = None,
    dim_labels: Mapping[int, str] | None = None,
    kl: Any = None,
) -> WebExplorer:
    """The in-page twin of :func:`vaecore.widgets.attribute_explorer`, for one model.

    Choose a face (thumbnails or a list), then edit it with attribute sliders and
    latent offsets; the page decodes ``codes[face] + sum_a s_a v_a`` plus the
    offsets on their dims, as the widget does::

        web.attribute_explorer(model, x_test[:8], {"Smiling": v_smile}, dims=top)

    Args:
        model: a trained vaecore VAE (its decoder goes into the page).
        faces: ``(n, H, W, C)`` images of this model, ``n <= 64``: shown as
            thumbnails and encoded to their posterior means (unless ``codes``).
        vectors: ``{name: (latent_dim,) vector}`` directions with a strength slider
            each (e.g. :func:`vaecore.toolbox.attribute_vector`); may be empty.
        dims: latent dims with an offset slider; default the ``max_sliders`` dims
            whose codes vary most over the faces.
        codes: ``(n, latent_dim)`` base codes instead of (or for) ``faces``.
        names: a label per face (default "face 0", "face 1", ...).
        strength_range, slider_range: the sliders run over +-these.
        precision: as in :func:`latent_explorer` (``"auto"``: float16, int8 for big
            decoders when it stays within 4/255).
        face, strengths, offsets: what the page shows first.
        title: a heading over the explorer (e.g. the model's name).
        check_codes: how many codes carry their Keras decoding for the page's
            self-check: the first faces, with all attribute vectors and offsets
            added to all but the first.
        hint, dim_labels, kl: what to try (a sentence over the explorer), what the
            offset sliders move, and each offset dim's KL in nats, as in
            :func:`vaecore.explorers.page.latent_explorer`.

    The faces show as 96 px thumbnails to click; under :func:`model_choice` the menu
    names the model and ``title`` is left out.

    Raises:
        ValueError: faces, codes or vectors of the wrong shape, bad dims or names.
    """
    latent = int(model.latent_dim)
    shape = tuple(int(d) for d in model.arch_def["input"])
    images = None
    if faces is not None:
        images = to_numpy(faces, np.float32)
        if images.ndim == 3 and images.shape == shape:
            images = images[None]
        if images.ndim != 4 or images.shape[1:] != shape or len(images) == 0:
            raise ValueError(
                f"faces must be a non-empty (n, {', '.join(map(str, shape))}) batch of this "
                f"model's images, got shape {images.shape}"
            )
    if codes is None:
        if images is None:
            raise ValueError("give faces (images to encode) or codes (their latent codes)")
        from vaecore.toolbox import encode_images  # the toolbox imports TensorFlow for tf.data

        codes = encode_images(model, images)
    codes = to_numpy(codes, np.float32)
    if codes.ndim != 2 or codes.shape[1] != latent or len(codes) == 0:
        raise ValueError(f"codes must be (n, {latent}) codes of this model, got shape {codes.shape}")
    if images is not None and len(images) != len(codes):
        raise ValueError(f"{len(images)} faces but {len(codes)} codes")
    if len(codes) > MAX_FACES:
        raise ValueError(f"at most {MAX_FACES} faces fit a page, got {len(codes)}; pass faces[:8]")
    if not np.all(np.isfinite(codes)):
        raise ValueError("codes have non-finite values")
    names = [f"face {i}" for i in range(len(codes))] if names is None else [str(n) for n in names]
    if len(names) != len(codes):
        raise ValueError(f"{len(names)} names for {len(codes)} faces")
    vecs = _vectors(vectors, latent)
    if not strength_range > 0 or not slider_range > 0:
        raise ValueError("strength_range and slider_range must be positive")
    if dims is None:
        dims = pick_dims(latent, codes if len(codes) > 1 else None, max_sliders)
    dims = [int(d) for d in dims]
    if not 0 <= int(face) < len(codes):
        raise ValueError(f"face must be an index below {len(codes)}, got {face}")
    unknown = [a for a in (strengths or {}) if a not in vecs]
    if unknown:
        raise ValueError(f"unknown attributes {unknown}; attributes: {list(vecs)}")
    bad = [d for d in (offsets or {}) if int(d) not in dims]
    if bad:
        raise ValueError(f"no slider for latent dims {bad}; sliders: {dims}")

    rounded = np.round(codes, 4).astype(np.float32)  # what the page's JSON holds
    explorer = latent_explorer(
        model, dims=dims, base=rounded[int(face)], slider_range=slider_range, step=step,
        image_width=image_width, precision=precision, check_codes=1, hint=hint, dim_labels=dim_labels, kl=kl,
    )  # fmt: skip  (validates dims; picks the precision on the face's code)
    spec = explorer.spec
    spec["limits"] = [float(slider_range)] * len(dims)  # offsets, not values
    spec["attributes"] = {
        "title": title,
        "names": names,
        "codes": rounded.tolist(),
        "faces": None
        if images is None
        else [
            base64.b64encode(to_uint8(im).tobytes()).decode("ascii")
            for im in images
        ],
        "directions": [
            {"name": n, "vector": np.round(v, 4).astype(np.float32).tolist()} for n, v in vecs.items()
        ],
        "strength_limit": float(strength_range),
        "face": int(face),
        "strengths": [float((strengths or {}).get(n, 0.0)) for n in vecs],
        "offsets": [float((offsets or {}).get(d, 0.0)) for d in dims],
    }
    rng = np.random.default_rng(seed)
    check = []
    for k in range(max(1, int(check_codes))):
        f = k % len(codes)
        if k == 0:
            check.append(compose_code(spec, f))
            continue
        s = {n: float(rng.uniform(-strength_range, strength_range)) for n in vecs}
        o = {d: float(rng.uniform(-slider_range, slider_range)) for d in dims}
        check.append(compose_code(spec, f, s, o))
    spec["check"], error = _self_check(model, spec["decoder"], np.stack(check))
    return WebExplorer(spec, error)
