"""Named recipes: NNClassifier.from_recipe / NNRegressor.from_recipe."""

import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknn import NNClassifier, NNRegressor
from sknn.recipes import RECIPES, get_recipe, list_recipes

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # The regressor's batches of 64 rows are all the rows of the checks' data.
    pytest.mark.filterwarnings("ignore:batch_size=64 is larger than:UserWarning"),
]


def test_list_recipes():
    assert list_recipes() == ["tabular"]


_TYPES = [(NNClassifier, "classifier"), (NNRegressor, "regressor")]


@pytest.mark.parametrize("cls, kind", _TYPES)
def test_from_recipe_sets_the_recipes_parameters_then_the_given_ones(cls, kind):
    given = {"max_iter": 7, "random_state": 3}
    est = cls.from_recipe("tabular", **given)
    assert type(est) is cls
    params = est.get_params(deep=False)
    for name, value in RECIPES["tabular"][kind].items():
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


def test_each_estimator_gets_its_own_parameters():
    clf, reg = NNClassifier.from_recipe("tabular"), NNRegressor.from_recipe("tabular")
    assert clf.architecture.n_members == reg.architecture.n_members == 8
    assert clf.architecture.embedding is None and clf.max_iter == 200
    assert reg.architecture.embedding == "plr" and reg.max_iter == 100


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_recipe_components_are_fresh_instances(kind):
    a, b = get_recipe("tabular", kind), get_recipe("tabular", kind)
    assert a["architecture"] is not b["architecture"]
    a["architecture"].set_params(n_members=1)
    assert RECIPES["tabular"][kind]["architecture"].n_members != 1
    cls = NNClassifier if kind == "classifier" else NNRegressor
    assert (
        cls.from_recipe("tabular").architecture
        is not RECIPES["tabular"][kind]["architecture"]
    )


@pytest.mark.parametrize("name", ["tabluar", None, 3])
def test_unknown_recipe_is_named(name):
    with pytest.raises(ValueError, match=r"recipe must be one of \['tabular'\]"):
        NNRegressor.from_recipe(name)


@pytest.mark.parametrize("kind", ["classification", None])
def test_unknown_estimator_type_is_named(kind):
    match = r"estimator_type must be one of \['classifier', 'regressor'\]"
    with pytest.raises(ValueError, match=match):
        get_recipe("tabular", kind)


@parametrize_with_checks(
    [NNClassifier.from_recipe("tabular"), NNRegressor.from_recipe("tabular")]
)
def test_the_tabular_recipe_is_sklearn_compatible(estimator, check):
    check(estimator)
