"""Named recipes: NNClassifier.from_recipe / NNRegressor.from_recipe."""

import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknn import NNClassifier, NNRegressor
from sknn.recipes import RECIPES, get_recipe, list_recipes

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_list_recipes():
    assert list_recipes() == ["tabular"]


@pytest.mark.parametrize("cls", [NNClassifier, NNRegressor])
def test_from_recipe_sets_the_recipes_parameters_then_the_given_ones(cls):
    given = {"max_iter": 7, "random_state": 3}
    est = cls.from_recipe("tabular", **given)
    assert type(est) is cls
    params = est.get_params(deep=False)
    for name, value in RECIPES["tabular"].items():
        if name in given:
            continue
        if hasattr(value, "get_params"):
            assert type(params[name]) is type(value)
            assert params[name].get_params() == value.get_params()
        else:
            assert params[name] == value
    assert {k: params[k] for k in given} == given
    # An ordinary estimator: clone keeps every value, set_params reaches nested ones.
    assert repr(clone(est)) == repr(est)
    est.set_params(architecture__n_members=2)
    assert est.architecture.n_members == 2


def test_recipe_components_are_fresh_instances():
    a, b = get_recipe("tabular"), get_recipe("tabular")
    assert a["architecture"] is not b["architecture"]
    a["architecture"].set_params(n_members=1)
    assert RECIPES["tabular"]["architecture"].n_members != 1
    assert (
        NNClassifier.from_recipe("tabular").architecture
        is not (RECIPES["tabular"]["architecture"])
    )


@pytest.mark.parametrize("name", ["tabluar", None, 3])
def test_unknown_recipe_is_named(name):
    with pytest.raises(ValueError, match=r"recipe must be one of \['tabular'\]"):
        NNRegressor.from_recipe(name)


@parametrize_with_checks(
    [NNClassifier.from_recipe("tabular"), NNRegressor.from_recipe("tabular")]
)
def test_the_tabular_recipe_is_sklearn_compatible(estimator, check):
    check(estimator)
