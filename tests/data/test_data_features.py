"""build_featurizer and featurize: output types and shapes, pool-only fitting, NaN/inf refusal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from loopwise.data import build_featurizer, featurize, load_dataset, split_pool_test
from loopwise.errors import ConfigError, DataError

Write = Callable[[str, str], Path]

WORDS = ["alpha", "beta", "gamma", "delta", "omega"]


def text_csv(write: Write, n_rows: int) -> Path:
    rng = np.random.default_rng(0)
    rows = [
        f"d{i},{' '.join(rng.choice(WORDS, size=6))} filler words here,{'pos' if i % 2 else 'neg'}\n"
        for i in range(n_rows)
    ]
    return write("docs.csv", "id,text,label\n" + "".join(rows))


def mixed_csv(write: Write) -> Path:
    rows = "".join(f"m{i},{['red', 'green', 'blue'][i % 3]},{10.0 * i},{'ab'[i % 2]}\n" for i in range(30))
    return write("mixed.csv", "id,colour,price,label\n" + rows)


def test_text_gives_float32_csr_fitted_on_pool_only(write: Write) -> None:
    path = write(
        "t.csv",
        "id,text,label\n"
        "1,apple banana,a\n2,apple cherry,b\n3,banana cherry,a\n4,zebra unicorn,b\n",
    )
    ds = load_dataset(path, text_column="text")
    featurizer = build_featurizer(ds)
    X_pool, X_test = featurize(ds, np.array([0, 1, 2]), np.array([3]), featurizer)
    assert sp.isspmatrix_csr(X_pool) and sp.isspmatrix_csr(X_test)
    assert X_pool.dtype == np.float32 and X_test.dtype == np.float32
    assert X_pool.shape[0] == 3 and X_test.shape == (1, X_pool.shape[1])
    vocabulary = featurizer.named_transformers_["text:text"].vocabulary_
    assert "zebra" not in vocabulary and "apple banana" in vocabulary  # bigrams, and test words unseen
    assert X_test.nnz == 0


def test_min_df_is_two_except_for_tiny_data(write: Write) -> None:
    small = load_dataset(text_csv(write, 20))
    big = load_dataset(text_csv(write, 120))
    tfidf = lambda f: f.transformers[0][1]  # noqa: E731
    assert tfidf(build_featurizer(small)).min_df == 1
    assert tfidf(build_featurizer(big)).min_df == 2
    assert tfidf(build_featurizer(big, n_fit_rows=50)).min_df == 1
    params = tfidf(build_featurizer(big)).get_params()
    assert params["ngram_range"] == (1, 2) and params["sublinear_tf"] and params["max_features"] == 50_000
    # featurize sizes min_df by the pool it fits on
    pool, test = split_pool_test(big, max_pool=30)
    X_pool, _ = featurize(big, pool, test)
    assert X_pool.shape[0] == 30


def test_tabular_gives_dense_one_hot_and_standardised_columns(write: Write) -> None:
    ds = load_dataset(mixed_csv(write))
    assert ds.categorical_columns == ["colour"] and ds.numeric_columns == ["price"]
    pool, test = split_pool_test(ds, seed=0)
    featurizer = build_featurizer(ds)
    assert isinstance(featurizer, ColumnTransformer)
    X_pool, X_test = featurize(ds, pool, test, featurizer)
    assert isinstance(X_pool, np.ndarray) and isinstance(X_test, np.ndarray)
    assert X_pool.dtype == np.float32 and X_pool.shape == (len(pool), 4) and X_test.shape == (len(test), 4)
    onehot, numeric = X_pool[:, :3], X_pool[:, 3]
    assert set(np.unique(onehot)) == {0.0, 1.0} and np.all(onehot.sum(axis=1) == 1.0)
    assert abs(float(numeric.mean())) < 1e-5 and abs(float(numeric.std()) - 1.0) < 1e-4
    # the scaler learnt the pool's statistics, not the test rows'
    price = ds.frame["price"].to_numpy()  # type: ignore[index]
    expected = (price[test] - price[pool].mean()) / price[pool].std()
    np.testing.assert_allclose(X_test[:, 3], expected, rtol=1e-5)


def test_unseen_category_is_ignored_and_gaps_are_imputed(fake_shared: Path) -> None:
    ds = load_dataset("toy_tab", shared_root=fake_shared)
    # pool has code '007' only; the test row's '010' is unseen
    X_pool, X_test = featurize(ds, np.array([0, 1, 2]), np.array([4]))
    assert np.isfinite(X_pool).all()
    assert X_test[0, 0] == 0.0  # one-hot of an unseen category is all zeros
    X_pool, X_test = featurize(ds, np.array([0, 1, 2, 3]), np.array([4]))
    assert np.isfinite(X_pool).all()  # NaN size (row 1) and missing code (row 3) imputed


def test_images_pass_through() -> None:
    ds = load_dataset("digits")
    pool, test = split_pool_test(ds, max_pool=100, max_test=50)
    X_pool, X_test = featurize(ds, pool, test)
    assert isinstance(build_featurizer(ds), FunctionTransformer)
    assert X_pool.dtype == np.float32 and X_pool.shape == (100, 64) and X_test.shape == (50, 64)
    np.testing.assert_array_equal(X_pool, ds.images[pool])  # type: ignore[index]


def test_user_featurizer_is_fitted_in_place(write: Write) -> None:
    ds = load_dataset("wine")
    pool, test = split_pool_test(ds)
    scaler = StandardScaler(with_std=False)
    X_pool, X_test = featurize(ds, pool, test, scaler)
    assert hasattr(scaler, "mean_") and X_pool.shape == (len(pool), 13) and X_pool.dtype == np.float32


def test_featurizer_producing_nan_is_refused_with_record_id() -> None:
    ds = load_dataset("wine")

    def poison(X: object) -> np.ndarray:
        out = np.asarray(X, dtype=np.float64).copy()
        if len(out) > 1:
            out[1, 4] = np.nan
        return out

    with pytest.raises(DataError) as info:
        featurize(ds, np.array([5, 6, 7]), np.array([8]), FunctionTransformer(poison))
    assert "record id '6'" in str(info.value) and "column 4" in str(info.value)


def test_sparse_output_with_inf_is_refused_with_record_id() -> None:
    ds = load_dataset("wine")

    def poison(X: object) -> sp.csr_matrix:
        out = sp.csr_matrix(np.ones((len(X), 2)))  # type: ignore[arg-type]
        out.data[-1] = np.inf
        return out

    with pytest.raises(DataError) as info:
        featurize(ds, np.array([10, 11, 12]), np.array([], dtype=np.int64), FunctionTransformer(poison))
    assert "record id '12'" in str(info.value) and "infinite" in str(info.value)


def test_empty_test_set_keeps_the_output_type(write: Write) -> None:
    ds = load_dataset(text_csv(write, 10))
    X_pool, X_test = featurize(ds, np.arange(10), np.array([], dtype=np.int64))
    assert sp.isspmatrix_csr(X_test) and X_test.shape == (0, X_pool.shape[1])
    tab = load_dataset("wine")
    X_pool, X_test = featurize(tab, np.arange(10), [])
    assert isinstance(X_test, np.ndarray) and X_test.shape == (0, 13)


def test_real_sms_spam_featurizes_sparse(real_shared: Path) -> None:
    ds = load_dataset("sms_spam", shared_root=real_shared)
    pool, test = split_pool_test(ds, max_pool=400, max_test=100)
    X_pool, X_test = featurize(ds, pool, test)
    assert sp.isspmatrix_csr(X_pool) and X_pool.shape[0] == 400 and X_test.shape[0] == 100


@pytest.mark.parametrize(
    ("pool", "test", "says"),
    [
        (np.array([0, 200]), np.array([1]), "0..177"),
        (np.array([0.5, 1.0]), np.array([2]), "integer"),
        (np.array([], dtype=np.int64), np.array([2]), "empty"),
    ],
)
def test_bad_positions(pool: np.ndarray, test: np.ndarray, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        featurize(load_dataset("wine"), pool, test)
