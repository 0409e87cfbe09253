"""
Embeddings plus a scikit-learn model
====================================

A trained network is also a feature extractor: its penultimate layer maps each ECG to a
vector, and any scikit-learn model can learn a new task on those vectors.
:class:`~ecgsk.estimators.ECGEmbedder` wraps an encoder as an ordinary transformer, so
``make_pipeline(ECGEmbedder(...), StandardScaler(), LogisticRegression())`` cross-validates
and grid-searches like any pipeline, and its embedding cache computes each ECG's embedding
once for all folds and grid points.

Here the encoder is a small ``"deepecg-sl-tiny"`` network trained on the five PTB-XL
superclasses of half of the bundled sample; the downstream models learn "abnormal ECG" on
the other half, on other patients. With a test-size network and 200 ECGs, the scores below
show how the pieces fit together, not how good such embeddings can be: a real encoder is
trained (or self-supervised, :ref:`sphx_glr_auto_examples_plot_06_ssl_pretraining.py`) on
thousands of ECGs.
"""

# %%
# Two disjoint halves
# -------------------
# PTB-XL's folds keep each patient in one fold, so folds 1-5 (encoder) and 6-10
# (downstream task) share no patient.
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ecgsk.datasets import load_ptbxl_sample
from ecgsk.estimators import ECGClassifier, ECGEmbedder
from ecgsk.preprocessing import make_deepecg_preprocessing

sample = load_ptbxl_sample()
X = make_deepecg_preprocessing(sample.sfreq, input_leads=sample.leads).fit_transform(
    sample.signals
)  # (200, 12, 2500): 10 s at 250 Hz
patients = sample.meta["patient_id"].to_numpy()
first_half = (sample.meta["strat_fold"] <= 5).to_numpy()

X_down = X[~first_half]
y_down = 1 - sample.labels["NORM"].to_numpy()[~first_half]  # 1 = abnormal ECG
groups_down = patients[~first_half]
print(f"encoder: {first_half.sum()} ECGs; downstream: {len(X_down)} ECGs, "
      f"{y_down.sum()} abnormal")

# %%
# An encoder
# ----------
# Any trained ecgsk network can serve: here a classifier trained on the first half. Its
# ``module_`` (a torch module) is what goes into :class:`~ecgsk.estimators.ECGEmbedder`:
# scikit-learn's ``clone`` copies a module with its weights, whereas it would turn an
# estimator parameter into an unfitted copy.
clf = ECGClassifier("deepecg-sl-tiny", max_epochs=8, batch_size=32, lr=3e-3, random_state=0,
                    progress_bar=False, verbose=0)
clf.fit(X[first_half], sample.labels[first_half], groups=patients[first_half])
encoder = clf.module_
print("embedding size:", ECGEmbedder(encoder).fit(X_down[:2]).n_features_out_)

# %%
# A grid search on embeddings
# ---------------------------
# The pipeline embeds the ECGs, standardises the embeddings and fits a logistic regression.
# Four values of ``C`` times three patient-level folds make 12 fits, plus the refit on all
# 114 downstream ECGs: without a cache, every fit and every scoring embeds its ECGs again.
cv = StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=0)
param_grid = {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]}


def search(cache):
    pipe = make_pipeline(ECGEmbedder(encoder, cache=cache), StandardScaler(),
                         LogisticRegression(max_iter=2000))
    grid = GridSearchCV(pipe, param_grid, cv=cv, scoring="roc_auc")
    start = time.perf_counter()
    grid.fit(X_down, y_down, groups=groups_down)
    return grid, time.perf_counter() - start


grid_plain, seconds_plain = search(cache=None)
grid_cached, seconds_cached = search(cache=True)
print(f"without cache: {seconds_plain:.1f} s; with cache=True: {seconds_cached:.1f} s")

# %%
# The two searches score identically (the cache returns the same float32 embeddings); only
# the time differs. With ``cache=True`` the first fit embeds the ECGs of its fold, the
# scoring embeds the rest, and every later fit, scoring and the refit reuse them. The
# cache lives in this process and is keyed by a hash of each ECG and of the encoder's
# weights, so a retrained encoder never reuses stale vectors; ``cache="folder/"`` keeps it
# on disk instead, shared by the worker processes of ``n_jobs=2``.
results = pd.DataFrame(grid_cached.cv_results_)
results["mean_test_score (no cache)"] = grid_plain.cv_results_["mean_test_score"]
print(results[["param_logisticregression__C", "mean_test_score", "std_test_score",
               "mean_test_score (no cache)"]].round(3).to_string(index=False))

# %%
# Any model on the same embeddings
# --------------------------------
# The embeddings are in the cache now, so another downstream model costs no network pass
# at all: a gradient-boosted tree ensemble, searched over its depth.
boost = make_pipeline(ECGEmbedder(encoder, cache=True),
                      HistGradientBoostingClassifier(max_iter=100, random_state=0))
start = time.perf_counter()
grid_boost = GridSearchCV(boost, {"histgradientboostingclassifier__max_depth": [2, 3]},
                          cv=cv, scoring="roc_auc").fit(X_down, y_down, groups=groups_down)
print(f"gradient boosting: AUROC {grid_boost.best_score_:.3f} "
      f"({time.perf_counter() - start:.1f} s, all embeddings from the cache)")
print(f"logistic regression: AUROC {grid_cached.best_score_:.3f} "
      f"(best C = {grid_cached.best_params_['logisticregression__C']})")

fig, ax = plt.subplots(figsize=(6, 2.6))
names = ["logistic regression, no cache", "logistic regression, cache=True"]
ax.barh(names, [seconds_plain, seconds_cached], color=["C7", "C0"])
ax.set(xlabel="GridSearchCV wall time (s), 12 fits + refit")
fig.tight_layout()

# %%
# A map of the embeddings
# -----------------------
# Two 2-D views of the downstream ECGs' embeddings: the first two principal components and
# a t-SNE map, each point an ECG coloured by its label. A visible separation says the
# encoder's features carry the label; t-SNE distances between clusters mean little, and on
# 114 ECGs neither view is more than a sanity check.
Z = ECGEmbedder(encoder, cache=True).fit_transform(X_down)
Z = StandardScaler().fit_transform(Z)
views = {
    "PCA": PCA(n_components=2, random_state=0).fit_transform(Z),
    "t-SNE": TSNE(n_components=2, perplexity=20, init="pca", random_state=0).fit_transform(Z),
}
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, (name, points) in zip(axes, views.items(), strict=True):
    for value, label, color in ((0, "normal", "C0"), (1, "abnormal", "C3")):
        mask = y_down == value
        ax.scatter(points[mask, 0], points[mask, 1], s=18, c=color, alpha=0.75, label=label)
    ax.set(title=name, xticks=[], yticks=[])
axes[0].legend(fontsize=8)
fig.suptitle("Embeddings of the downstream ECGs (PTB-XL folds 6-10)")
fig.tight_layout()

# %%
# 114 downstream ECGs in three folds leave about 38 test ECGs per fold, so AUROCs move
# by several hundredths from fold to fold and the "best" ``C`` is a coin toss between close
# values. What carries over to a real cohort is the pattern: one embedding pass, then as
# many scikit-learn models, grids and folds as needed. For tens of thousands of ECGs, embed
# once with ``ECGEmbedder(...).transform`` (or ``ecgsk embed``, :doc:`/user_guide/cohorts`)
# and keep the matrix.
print("embedding matrix:", np.asarray(Z).shape)
plt.show()
