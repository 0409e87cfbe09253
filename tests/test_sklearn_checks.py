"""scikit-learn's estimator checks over every public ECG estimator and preprocessing transformer.

sklearn's checks generate 2-D data ``(n_samples, n_features)`` and skip estimators whose tags
say they take 3-D input only, which all of ecgsk's do. Each estimator is therefore checked
through a *flat view*: a subclass (same parameters, same code) whose 2-D input ``X`` becomes
ECGs ``(n, 12, T)`` (every feature held for ``T / n_features`` samples on all 12 leads) and
whose 3-D transform output is flattened back. Checks that the 3-D input makes inapplicable
are listed in ``expected_failed_checks`` with the reason.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from ecgsk import ECGClassifier, ECGEmbedder, ECGPretrainer, ECGRegressor
from ecgsk import preprocessing as prep
from ecgsk.nn import build_model

N_LEADS = 12
MIN_TIMES = 500  # samples per lead of the flat view's ECGs: 2 s at 250 Hz (what the filters need)
QUIET = {"progress_bar": False, "verbose": 0, "random_state": 0}


class TinyNet(torch.nn.Module):
    """A network small enough for sklearn's many fits (ecgsk.nn's contract)."""

    def __init__(self, n_leads=12, n_times=64, n_outputs=1):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Conv1d(n_leads, 4, 3, padding=1), torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool1d(1), torch.nn.Flatten(),
        )
        self.head = torch.nn.Linear(4, n_outputs)

    def forward_features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.forward_features(x))


def _to_ecgs(X):
    """2-D numeric ``X`` -> ECGs ``(n, 12, T)``; anything else unchanged (so errors stay ours)."""
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "biuf" and X.shape[1] > 0:
        repeat = -(-MIN_TIMES // X.shape[1])
        return np.repeat(np.repeat(X[:, None, :], N_LEADS, axis=1), repeat, axis=2)
    return X


def _flat(out):
    return out.reshape(len(out), -1) if isinstance(out, np.ndarray) and out.ndim == 3 else out


def _flat_view(estimator):
    """An instance of a subclass of ``type(estimator)`` that takes 2-D input (same params)."""
    cls = type(estimator)
    namespace = {"__module__": __name__, "__doc__": cls.__doc__}

    def __sklearn_tags__(self):
        tags = cls.__sklearn_tags__(self)
        tags.input_tags.two_d_array = True
        tags.input_tags.three_d_array = False
        return tags

    namespace["__sklearn_tags__"] = __sklearn_tags__

    def fit(self, X, y=None, **kwargs):
        if issubclass(cls, ECGPretrainer):
            y = None  # sklearn passes a y to every estimator; the pretrainer learns without
        return cls.fit(self, _to_ecgs(X), y, **kwargs)

    namespace["fit"] = fit
    for name in ("predict", "predict_proba", "decision_function", "transform", "score"):
        if hasattr(estimator, name):

            def method(self, X, *args, _name=name, **kwargs):
                return _flat(getattr(cls, _name)(self, _to_ecgs(X), *args, **kwargs))

            method.__name__ = name
            namespace[name] = method
    if hasattr(estimator, "fit_transform"):

        def fit_transform(self, X, y=None, **kwargs):
            return _flat(cls.fit_transform(self, _to_ecgs(X), y, **kwargs))

        namespace["fit_transform"] = fit_transform
    name = f"Flat{cls.__name__}"
    namespace["__qualname__"] = name
    flat = globals().setdefault(name, type(name, (cls,), namespace))  # picklable by name
    return flat(**estimator.get_params(deep=False))


ENCODER = build_model("deepecg-ssl-tiny", n_times=250, n_outputs=1)
ESTIMATORS = [
    ECGClassifier(TinyNet, max_epochs=1, batch_size=32, validation=None, threshold=0.5,
                  lr_schedule=None, **QUIET),
    ECGRegressor(TinyNet, max_epochs=1, batch_size=32, validation=None, lr_schedule=None,
                 **QUIET),
    ECGPretrainer("deepecg-ssl-tiny", sfreq=250, segment_seconds=1, max_epochs=1, batch_size=32,
                  validation=None, lr_schedule=None,
                  pretext_options={"n_entries": 8, "n_negatives": 2}, **QUIET),
    ECGEmbedder(ENCODER, device="cpu"),
]
TRANSFORMERS = [
    prep.BandpassFilter(250.0, 0.5, 40.0),
    prep.BaselineRemoval(250.0),
    prep.CropOrPad(MIN_TIMES),
    prep.NormalizeLeads(),
    prep.NotchFilter(250.0),
    prep.ReorderLeads(),
    prep.Resample(250.0, 125.0),
    prep.SpectralNotch(250.0),
    prep.make_deepecg_preprocessing(250.0),
    prep.AmplitudeScaler(),
    prep.DeepECGSpectralCleaning(250.0),
    # prep.Decimate is left out: it takes only 10 s records at a multiple of 250 Hz (the
    # release's decimation), which sklearn's toy data never are; tests/test_preprocessing_release.py
]

# Why each check that fails cannot pass on ECGs (3-D input); measured, then listed per class.
REASONS = {
    'check_classifier_data_not_an_array': (
        "the flat view only builds ECGs from numeric arrays; sklearn's list-like wrapper reaches the 3-D check"
    ),
    'check_classifiers_train': (
        "sklearn's toy classification data have 2 features: under the flat view a 2-D y and 1-D X reach the 3-D check"
    ),
    'check_complex_data': (
        "complex input is refused with ecgsk's TypeError (ECGs are real); sklearn expects its own ValueError wording"
    ),
    'check_fit2d_1feature': (
        "the cohort amplitude gain is learned from lead I's spectrum: one feature under the flat view makes that lead constant, which is refused with ecgsk's message (a flat reference lead), not sklearn's n_features wording"
    ),
    'check_dict_unchanged': (
        "the pretrainer's fit records segment_length_/n_segments_ from the data; its embeddings need ECGs divisible into segments"
    ),
    'check_do_not_raise_errors_in_init_or_set_params': (
        'skorch validates parameters at set_params/initialize'
    ),
    'check_dont_overwrite_parameters': (
        "fit sets private state (the encoder's spec on the network, pipeline steps) that sklearn sees as public attributes"
    ),
    'check_dtype_object': (
        'object arrays are refused (TypeError): ECGs must be numeric arrays'
    ),
    'check_estimator_sparse_array': (
        "sparse matrices cannot hold ECGs (3-D); the flat view passes them on and they are refused with ecgsk's TypeError"
    ),
    'check_estimator_sparse_matrix': (
        "sparse matrices cannot hold ECGs (3-D); refused with ecgsk's TypeError"
    ),
    'check_estimator_sparse_tag': (
        "sparse matrices cannot hold ECGs (3-D); refused with ecgsk's TypeError"
    ),
    'check_estimators_dtypes': (
        "the pretrainer's embeddings need ECGs divisible into its segments (501 samples from sklearn's 3 features)"
    ),
    'check_estimators_empty_data_messages': (
        "empty input is refused with the ECG array's message, not sklearn's 2-D wording"
    ),
    'check_estimators_overwrite_params': (
        "the pretrainer's embeddings need ECGs divisible into its segments; pipeline steps are fitted in place"
    ),
    'check_estimators_pickle': (
        "the pretrainer's embeddings need ECGs divisible into its segments (501 samples from sklearn's 3 features)"
    ),
    'check_fit2d_1sample': (
        'classifiers and regressors have transform (embeddings) but no fit_transform'
    ),
    'check_fit2d_predict1d': (
        "1-D input is refused with the ECG array's message (3-D required), not sklearn's wording"
    ),
    'check_fit_idempotent': (
        "the pretrainer's embeddings need ECGs divisible into its segments (501 samples from sklearn's 3 features)"
    ),
    'check_fit_score_takes_y': (
        "the flat view's methods take (X, *args); the real fit(X, y, groups) and score(X, y) do take y"
    ),
    'check_methods_subset_invariance': (
        "the flat view's ECG of a subset differs (the repeat factor depends on n_features)"
    ),
    'check_n_features_in': (
        '3-D input: n_leads_ and n_times_ are recorded instead of n_features_in_'
    ),
    'check_n_features_in_after_fitting': (
        '3-D input: n_leads_/n_times_ are checked instead of n_features_in_'
    ),
    'check_no_attributes_set_in_init': (
        "skorch's NeuralNet sets history_, initialized_ and virtual_params_ in __init__ by design"
    ),
    'check_regressor_data_not_an_array': (
        "the flat view only builds ECGs from numeric arrays; sklearn's list-like wrapper reaches the 3-D check"
    ),
    'check_regressors_train': (
        "sklearn's toy regression data are passed as lists/2-D y that the flat view does not turn into ECGs"
    ),
    'check_requires_y_none': (
        "the 3-D input check runs before y is looked at, so fit(X, None) fails on X with ecgsk's message"
    ),
    'check_supervised_y_2d': (
        'a 2-D y is a multilabel (classifier) or multi-target (regressor) target by design, not a column vector to ravel with a warning'
    ),
    'check_transformer_data_not_an_array': (
        "the flat view only builds ECGs from numeric arrays; sklearn's list-like wrapper reaches the 3-D check"
    ),
    'check_transformer_general': (
        "stateless signal steps take ECGs of any length, so a different number of 'features' at transform is not an error"
    ),
    'check_transformer_preserve_dtypes': (
        'transform returns float32 embeddings (network precision) for float64 input; classifiers and regressors have no fit_transform'
    ),
}
# The checks of every preprocessing step that cannot pass on ECGs (the same for each step).
_STEP_CHECKS = (
    'check_complex_data',
    'check_dtype_object',
    'check_estimator_sparse_array',
    'check_estimator_sparse_matrix',
    'check_estimator_sparse_tag',
    'check_estimators_empty_data_messages',
    'check_fit2d_predict1d',
    'check_n_features_in',
    'check_n_features_in_after_fitting',
    'check_transformer_data_not_an_array',
    'check_transformer_general',
)
EXPECTED_CHECKS = {
    'ECGClassifier': (
        'check_classifier_data_not_an_array',
        'check_classifiers_train',
        'check_complex_data',
        'check_dtype_object',
        'check_estimators_empty_data_messages',
        'check_fit2d_1sample',
        'check_fit2d_predict1d',
        'check_fit_score_takes_y',
        'check_n_features_in',
        'check_n_features_in_after_fitting',
        'check_no_attributes_set_in_init',
        'check_requires_y_none',
        'check_supervised_y_2d',
        'check_transformer_data_not_an_array',
        'check_transformer_general',
        'check_transformer_preserve_dtypes',
    ),
    'ECGRegressor': (
        'check_complex_data',
        'check_dtype_object',
        'check_estimators_empty_data_messages',
        'check_fit2d_predict1d',
        'check_fit_score_takes_y',
        'check_n_features_in',
        'check_n_features_in_after_fitting',
        'check_no_attributes_set_in_init',
        'check_regressor_data_not_an_array',
        'check_regressors_train',
        'check_requires_y_none',
        'check_supervised_y_2d',
        'check_transformer_data_not_an_array',
        'check_transformer_general',
        'check_transformer_preserve_dtypes',
    ),
    'ECGPretrainer': (
        'check_complex_data',
        'check_dict_unchanged',
        'check_do_not_raise_errors_in_init_or_set_params',
        'check_dtype_object',
        'check_estimators_dtypes',
        'check_estimators_empty_data_messages',
        'check_estimators_pickle',
        'check_fit2d_predict1d',
        'check_fit_idempotent',
        'check_n_features_in',
        'check_n_features_in_after_fitting',
        'check_no_attributes_set_in_init',
        'check_transformer_data_not_an_array',
        'check_transformer_preserve_dtypes',
    ),
    'ECGEmbedder': (
        'check_complex_data',
        'check_dtype_object',
        'check_estimator_sparse_array',
        'check_estimator_sparse_matrix',
        'check_estimator_sparse_tag',
        'check_estimators_empty_data_messages',
        'check_estimators_overwrite_params',
        'check_fit2d_predict1d',
        'check_methods_subset_invariance',
        'check_n_features_in',
        'check_n_features_in_after_fitting',
        'check_transformer_data_not_an_array',
        'check_transformer_general',
        'check_transformer_preserve_dtypes',
    ),
    'BandpassFilter': _STEP_CHECKS,
    'BaselineRemoval': _STEP_CHECKS,
    'CropOrPad': _STEP_CHECKS,
    'NormalizeLeads': _STEP_CHECKS,
    'NotchFilter': _STEP_CHECKS,
    'ReorderLeads': _STEP_CHECKS,
    'Resample': _STEP_CHECKS,
    'SpectralNotch': _STEP_CHECKS,
    'AmplitudeScaler': _STEP_CHECKS,
    'DeepECGSpectralCleaning': _STEP_CHECKS,
    'ECGPipeline': _STEP_CHECKS + (
        'check_dont_overwrite_parameters',
        'check_estimators_overwrite_params',
        'check_fit2d_1feature',
        'check_transformer_preserve_dtypes',
    ),
}
EXPECTED_FAILURES = {
    name: {check: REASONS[check] for check in checks} for name, checks in EXPECTED_CHECKS.items()
}


def expected_failed_checks(estimator):
    name = type(estimator).__name__.removeprefix("Flat")
    return EXPECTED_FAILURES.get(name, {})


@parametrize_with_checks(
    [_flat_view(e) for e in ESTIMATORS + TRANSFORMERS],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.set_num_threads(1)
        check(estimator)
