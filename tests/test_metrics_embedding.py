import numpy as np
import pytest
from scipy import linalg

from v2m import ParameterError
from v2m.metrics import embedding as E


def test_frechet_closed_form():
    rng = np.random.default_rng(0)
    d = 6
    mu_a, mu_b = rng.normal(size=d), rng.normal(size=d)
    A = rng.normal(size=(d, d))
    B = rng.normal(size=(d, d))
    sa, sb = A @ A.T + np.eye(d), B @ B.T + np.eye(d)
    # commuting case: diagonal covariances -> sum (sqrt(a) - sqrt(b))^2
    da, db = np.diag(rng.uniform(0.5, 2, d)), np.diag(rng.uniform(0.5, 2, d))
    want = np.sum((mu_a - mu_b) ** 2) + np.sum((np.sqrt(np.diag(da)) - np.sqrt(np.diag(db))) ** 2)
    assert E.frechet_distance(mu_a, da, mu_b, db) == pytest.approx(want, rel=1e-9)
    # general case against the definition
    ref = np.sum((mu_a - mu_b) ** 2) + np.trace(sa + sb - 2 * np.real(linalg.sqrtm(sa @ sb)))
    assert E.frechet_distance(mu_a, sa, mu_b, sb) == pytest.approx(ref, rel=1e-9)
    assert E.frechet_distance(mu_a, sa, mu_a, sa) == pytest.approx(0, abs=1e-6)


def test_frechet_from_samples_and_infinity():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4000, 4))
    b = rng.normal(loc=[1, 0, 0, 0], size=(4000, 4))
    assert E.frechet_distance_from_embeddings(a, b) == pytest.approx(1.0, abs=0.1)
    # same distribution, 32 dims, 400 items: the finite-sample FD is biased (~0.77);
    # FAD-infinity removes most of that bias (true value 0)
    same_gen = rng.normal(size=(400, 32))
    ref = rng.normal(size=(20000, 32))
    fd = E.frechet_distance_from_embeddings(same_gen, ref)
    inf = E.frechet_distance_infinity(same_gen, ref, seed=0)
    assert fd > 0.5 and abs(inf) < 0.3 * fd
    assert inf == E.frechet_distance_infinity(same_gen, ref, seed=0)


def test_kl_is_cosine_known_answers():
    p = np.array([[0.5, 0.5]])
    q = np.array([[0.9, 0.1]])
    want = 0.5 * np.log(0.5 / 0.9) + 0.5 * np.log(0.5 / 0.1)
    assert E.kl_divergence(p, q) == pytest.approx(want, rel=1e-5)
    assert E.kl_divergence(p, p) == pytest.approx(0)
    onehot = np.eye(10)
    assert E.inception_score(onehot)[0] == pytest.approx(10, rel=1e-6)
    assert E.inception_score(np.full((5, 4), 0.25))[0] == pytest.approx(1.0)
    a = np.array([[1.0, 0], [0, 2.0]])
    assert E.cosine_similarity(a, a) == pytest.approx(1.0)
    assert E.cosine_similarity(a, a[::-1]) == pytest.approx(0.0)
    with pytest.raises(ParameterError, match="widths"):
        E.frechet_distance_from_embeddings(np.zeros((3, 2)), np.zeros((3, 3)))
