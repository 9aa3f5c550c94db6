"""Library learners declare what input they take, and a learner given the wrong kind is refused with why."""

from __future__ import annotations

import pytest

from loopwise.errors import ConfigError
from loopwise.learners import DENSE, LIBRARY, SPARSE, SPECS, TEXT_LEARNERS, TEXTS, check_learner_embeds, check_learner_input, make_estimator


def test_the_declarations_cover_the_library_and_name_the_text_learners() -> None:
    assert set(SPECS) == set(LIBRARY)
    assert TEXT_LEARNERS == {"tfidf_logreg", "tfidf_svd", "minilm", "tfidf_ovr_logreg", "tfidf_ovr_balanced", "tfidf_svd_ovr",
                            "minilm_ovr"}
    assert SPECS["hgb"].takes == {DENSE} and SPECS["logreg"].takes == {DENSE, SPARSE}
    assert SPECS["minilm"].extra == "text" and SPECS["logreg"].extra is None


def test_a_learner_given_what_it_cannot_take_is_refused_with_the_reason_and_the_source() -> None:
    with pytest.raises(ConfigError, match=r"^hgb needs dense features; the pool is sparse$"):
        check_learner_input("hgb", frozenset({SPARSE}), "the pool is sparse")
    with pytest.raises(ConfigError, match=r"^minilm embeds raw texts; image projects give pixels$"):
        check_learner_input("minilm", frozenset({DENSE}), "image projects give pixels")
    check_learner_input("minilm", frozenset({TEXTS, SPARSE}), "unused")  # the text extra is installed here
    check_learner_input("logreg", frozenset({SPARSE}), "unused")


def test_an_unknown_learner_lists_the_known_ones_by_task() -> None:
    with pytest.raises(ConfigError) as caught:
        make_estimator("nosuch")
    message = str(caught.value)
    assert message.startswith("unknown learner 'nosuch'; known learners: hgb, logreg, minilm, mlp, rf, tfidf_logreg, tfidf_svd (classification); ")
    assert "ovr_logreg" in message.split("(classification); ")[1].split("(multilabel)")[0]
    assert message.endswith("bagging_ridge, bagging_trees, gp, quantile_hgb (regression)")


def test_a_learner_without_embeddings_is_refused_for_them_only_where_no_dense_rows_stand_in() -> None:
    with pytest.raises(ConfigError, match=r"^kcenter needs embeddings; rf has none of its own and it is sparse: use a"):
        check_learner_embeds("rf", frozenset({SPARSE}), "it is sparse", "kcenter")
    check_learner_embeds("rf", frozenset({DENSE}), "unused", "kcenter")
    check_learner_embeds("minilm", frozenset({TEXTS}), "unused", "kcenter")


def test_a_retrain_mode_the_learner_cannot_do_is_refused_naming_those_that_can() -> None:
    from loopwise.learners import check_retrain_mode

    with pytest.raises(ConfigError, match=r"^retrain mode 'new_only' needs a learner with partial_fit\(\); logreg has none \(learners with one: mlp\)$"):
        check_retrain_mode("logreg", "new_only")
    with pytest.raises(ConfigError, match=r"'warm_start' needs a learner with a warm_start parameter; minilm has none \(learners with one: logreg, hgb, rf, mlp\)"):
        check_retrain_mode("minilm", "warm_start")
    for name in SPECS:
        check_retrain_mode(name, "scratch")
    with pytest.raises(ConfigError, match=r"^retrain mode 'warm_start': bagging_trees learns regression, which retrains from scratch only$"):
        check_retrain_mode("bagging_trees", "warm_start")
    check_retrain_mode("logreg", "warm_start")
    check_retrain_mode("mlp", "new_only")
