import numpy as np
import pytest

from sklearn_mtl.datasets import (
    get_data_home,
    load_concrete,
    load_landmine,
    load_office_caltech,
    load_school,
    make_multitask_classification,
    make_multitask_regression,
)


def test_generators_are_seeded_and_return_the_truth():
    first = make_multitask_regression(
        n_tasks=4, n_samples=[5, 6, 7, 8], return_coef=True, random_state=0
    )
    second = make_multitask_regression(
        n_tasks=4, n_samples=[5, 6, 7, 8], return_coef=True, random_state=0
    )
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    X, y, task_ids, coef, intercept, adjacency = first
    assert X.shape == (26, 10) and np.bincount(task_ids).tolist() == [5, 6, 7, 8]
    assert coef.shape == (4, 10) and adjacency.shape == (4, 4)
    np.testing.assert_array_equal(adjacency, adjacency.T)
    X, y, task_ids = make_multitask_classification(n_tasks=3, random_state=0)
    assert set(np.unique(y)) == {0, 1}
    with pytest.raises(ValueError, match="n_samples"):
        make_multitask_regression(n_tasks=3, n_samples=[1, 2])


def test_missing_data_says_where_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="school.*tjanez/PyMTL"):
        load_school(data_home=tmp_path)
    with pytest.raises(FileNotFoundError, match="LandmineData.mat"):
        load_landmine(data_home=tmp_path)


def test_data_home_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SKLEARN_MTL_DATA", str(tmp_path))
    assert get_data_home() == tmp_path
    assert get_data_home("/elsewhere").as_posix() == "/elsewhere"


def test_load_school(data_home):
    school = load_school(data_home)
    assert school.data.shape == (15362, 27)
    assert len(np.unique(school.task_ids)) == 139
    assert len(school.splits) == 10
    train, test = school.splits[0]
    assert len(train) == 11472 and len(test) == 3890
    assert not set(train) & set(test)
    assert np.array_equal(np.unique(school.task_ids[train]), np.arange(1, 140))


def test_load_landmine(data_home):
    landmine = load_landmine(data_home)
    assert landmine.data.shape == (14820, 9)
    assert len(np.unique(landmine.task_ids)) == 29
    assert landmine.target.sum() == 904


def test_load_concrete(data_home):
    concrete = load_concrete(data_home)
    assert concrete.data.shape == (1030, 8)
    assert concrete.feature_names[4] == "superplasticizer"


def test_load_office_caltech(data_home):
    office = load_office_caltech(data_home)
    assert office.data.shape == (2533, 800)
    assert len(office.splits) == 12
    trial = office.splits["amazon", "webcam"][0]
    assert len(trial["source_train"]) == 200 and len(trial["target_train"]) == 30
    assert set(office.domain[trial["target_test"]]) == {"webcam"}
    assert set(office.domain[trial["source_train"]]) == {"amazon"}
    assert np.bincount(office.target[trial["target_train"]])[1:].tolist() == [3] * 10
