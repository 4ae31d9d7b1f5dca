"""Disentanglement, measured: the standard metrics, and single-dimension AUROCs (NumPy and SciPy).

Where the generative factors are known (dSprites: :mod:`vaecore.data.dsprites`), the
literature's named metrics, each defined in its docstring with its paper:

* :func:`mig` (Chen et al. 2018), mutual-information gap; :func:`mutual_information`
  gives the ``(D, K)`` matrix behind it;
* :func:`sap` (Kumar et al. 2018), separated attribute predictability;
* :func:`dci` (Eastwood & Williams 2018), disentanglement, completeness, informativeness;
* :func:`factor_vae_score` (Kim & Mnih 2018) and :func:`beta_vae_score` (Higgins et al.
  2017), which intervene on the generative process (fix one factor over a batch) and
  so take an encoder and a factor-indexed image source, a function from factors
  to codes, or a table of encoded examples with their factors (``factors=``).

``mig``, ``sap`` and ``dci`` take codes ``(n, D)`` (e.g. posterior means) and factors
``(n, K)``. All five are NumPy (the two classifier-based scores use SciPy's L-BFGS);
none needs scikit-learn, which disentanglement_lib uses: where its estimators are
replaced (DCI's gradient-boosted trees by the lasso of the DCI paper, SAP's linear
SVM by a binned one-dimensional classifier, the beta-VAE score's scikit-learn
logistic regression by our own) the docstring says so, and numbers can differ from
disentanglement_lib's somewhat.

For binary attributes without known factors (CelebA), the AUROC of each single
dimension (:mod:`.attributes`): :func:`attribute_scores`, :func:`summarize`; and the
held-out versions (:mod:`.heldout`): the SAP-style :func:`heldout_attribute_scores`
(dimensions chosen on training codes, scored on test codes), the full-code
:func:`linear_probe` and :func:`bootstrap_auroc` for confidence intervals.

Modules: :mod:`.attributes` (AUROCs), :mod:`.heldout` (held-out attribute scores), :mod:`.information` (binning, mutual
information, MIG), :mod:`.predictors` (SAP, DCI, the lasso), :mod:`.interventions`
(beta-VAE and FactorVAE scores).
"""

from vaecore.disentangle.attributes import attribute_scores, auroc, auroc_matrix, summarize
from vaecore.disentangle.heldout import (
    bootstrap_auroc,
    heldout_attribute_scores,
    linear_probe,
    selected_scores,
)
from vaecore.disentangle.information import (
    discretize,
    mig,
    mig_per_factor,
    mutual_information,
)
from vaecore.disentangle.interventions import beta_vae_score, factor_vae_score, representation
from vaecore.disentangle.predictors import dci, lasso, sap, sap_matrix

__all__ = [
    "attribute_scores",
    "auroc",
    "auroc_matrix",
    "beta_vae_score",
    "bootstrap_auroc",
    "dci",
    "discretize",
    "factor_vae_score",
    "heldout_attribute_scores",
    "lasso",
    "linear_probe",
    "mig",
    "mig_per_factor",
    "mutual_information",
    "representation",
    "sap",
    "sap_matrix",
    "selected_scores",
    "summarize",
]
