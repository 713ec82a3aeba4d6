import numpy as np
import pytest
from scipy.io import savemat

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


@pytest.mark.parametrize(
    "params, name",
    [
        ({"n_tasks": 0}, "n_tasks"),
        ({"n_features": 0}, "n_features"),
        ({"n_samples": 0}, "n_samples"),
        ({"n_clusters": 0}, "n_clusters"),
        ({"task_spread": -1.0}, "task_spread"),
        ({"n_tasks": 2.5}, "n_tasks"),
    ],
)
@pytest.mark.parametrize(
    "make", [make_multitask_regression, make_multitask_classification]
)
def test_generators_reject_empty_and_invalid_sizes(make, params, name):
    with pytest.raises(ValueError, match=f"'{name}' parameter of {make.__name__}"):
        make(**params)


def test_generators_reject_bad_noise_and_counts():
    with pytest.raises(ValueError, match="'noise' parameter"):
        make_multitask_regression(noise=-0.1)
    with pytest.raises(ValueError, match="'flip_y' parameter"):
        make_multitask_classification(flip_y=1.5)
    with pytest.raises(ValueError, match="one positive count per task"):
        make_multitask_regression(n_tasks=2, n_samples=[3, 2.5])


# Tiny but well-formed copies of each dataset's files, then broken one way at a time.


def _write_school(home, n_tasks=3, per_task=4):
    folder = home / "school" / "argyriou_splits"
    folder.mkdir(parents=True)
    n = n_tasks * per_task
    x = np.vstack([np.arange(n * 27.0).reshape(27, n), np.ones((1, n))])
    starts = np.arange(n_tasks) * per_task + 1
    savemat(
        folder / "school_b.mat",
        {"x": x, "y": np.arange(float(n))[:, None], "task_indexes": starts[:, None]},
    )
    for i in range(1, 11):
        savemat(
            folder / f"school_{i}_indexes.mat",
            {"tr": np.arange(1, n, 2)[None], "tst": np.arange(2, n + 1, 2)[None]},
        )
    return folder


def _write_landmine(home):
    folder = home / "landmine"
    folder.mkdir(parents=True)
    feature = np.empty((1, 2), dtype=object)
    label = np.empty((1, 2), dtype=object)
    feature[0, 0], label[0, 0] = np.ones((3, 9)), np.array([[0], [1], [0]])
    feature[0, 1], label[0, 1] = np.zeros((2, 9)), np.array([[1], [0]])
    savemat(folder / "LandmineData.mat", {"feature": feature, "label": label})
    return folder / "LandmineData.mat"


def _write_concrete(home, body="1,2,3\n4,5,6\n"):
    folder = home / "concrete_uci"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "Concrete_Data_Yeh.csv"
    path.write_text("cement,age,csMPa\n" + body)
    return path


def _write_office(home):
    from sklearn_mtl.datasets._real import _OFFICE_FILES, OFFICE_DOMAINS

    folder = home / "office_caltech10_surf"
    (folder / "splits_semisup_20trials").mkdir(parents=True)
    for name in OFFICE_DOMAINS:
        savemat(
            folder / f"{_OFFICE_FILES[name]}_SURF_L10.mat",
            {"fts": np.ones((4, 5)), "labels": np.array([[1], [2], [1], [2]])},
        )
    trial = np.empty((1, 2), dtype=object)
    trial[0, 0], trial[0, 1] = np.array([[1, 2]]), np.array([[3, 4]])
    for source in OFFICE_DOMAINS:
        for target in OFFICE_DOMAINS:
            if source != target:
                savemat(
                    folder
                    / "splits_semisup_20trials"
                    / f"SameCategory_{source}-{target}_20RandomTrials_10Categories.mat",
                    {
                        "train": {"source": trial, "target": trial},
                        "test": {"source": trial, "target": trial},
                    },
                )
    return folder


def test_tiny_well_formed_files_load(tmp_path):
    _write_school(tmp_path)
    school = load_school(tmp_path)
    assert school.data.shape == (12, 27) and school.task_ids.tolist()[::4] == [1, 2, 3]
    assert school.splits[0][0].tolist() == [0, 2, 4, 6, 8, 10]
    _write_landmine(tmp_path)
    assert load_landmine(tmp_path).task_ids.tolist() == [1, 1, 1, 2, 2]
    _write_concrete(tmp_path)
    assert load_concrete(tmp_path).target.tolist() == [3, 6]
    _write_office(tmp_path)
    office = load_office_caltech(tmp_path)
    assert office.data.shape == (16, 5) and len(office.splits) == 12
    trial = office.splits["caltech", "dslr"][1]
    assert trial["source_train"].tolist() == [6, 7]
    assert trial["target_test"].tolist() == [10, 11]


def _truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_school_broken_files_are_named(tmp_path):
    folder = _write_school(tmp_path)
    (folder / "school_b.mat").write_bytes(b"not a mat file at all")
    with pytest.raises(ValueError, match=r"'school'.*school_b\.mat.*cannot be read"):
        load_school(tmp_path)
    savemat(folder / "school_b.mat", {"x": np.ones((28, 5)), "y": np.ones((5, 1))})
    with pytest.raises(ValueError, match=r"school_b\.mat.*lacks.*task_indexes"):
        load_school(tmp_path)
    savemat(
        folder / "school_b.mat",
        {"x": np.ones((28, 5)), "y": np.ones((4, 1)), "task_indexes": [[1]]},
    )
    with pytest.raises(ValueError, match=r"school_b\.mat.*as many samples as y"):
        load_school(tmp_path)
    savemat(
        folder / "school_b.mat",
        {"x": np.ones((28, 5)), "y": np.ones((5, 1)), "task_indexes": [[1], [9]]},
    )
    with pytest.raises(ValueError, match=r"task_indexes must be whole numbers"):
        load_school(tmp_path)
    savemat(
        folder / "school_b.mat",
        {"x": np.ones((28, 5)), "y": np.ones((5, 1)), "task_indexes": [[1], [1]]},
    )
    with pytest.raises(ValueError, match=r"task_indexes must start at 1 and increase"):
        load_school(tmp_path)
    savemat(
        folder / "school_b.mat",
        {"x": np.ones((28, 12)), "y": np.ones((12, 1)), "task_indexes": [[1], [5]]},
    )
    assert load_school(tmp_path).task_ids.tolist() == [1] * 4 + [2] * 8
    savemat(folder / "school_7_indexes.mat", {"tr": [[1, 2, 13]], "tst": [[3]]})
    with pytest.raises(ValueError, match=r"school_7_indexes\.mat.*tr must be whole"):
        load_school(tmp_path)
    _truncate(folder / "school_7_indexes.mat", 0.6)
    with pytest.raises(ValueError, match=r"'school'.*school_7_indexes\.mat"):
        load_school(tmp_path)


def test_landmine_broken_files_are_named(tmp_path):
    path = _write_landmine(tmp_path)
    _truncate(path)
    with pytest.raises(ValueError, match=r"'landmine'.*LandmineData\.mat.*cannot be"):
        load_landmine(tmp_path)
    feature = np.empty((1, 2), dtype=object)
    feature[0, 0], feature[0, 1] = np.ones((3, 9)), np.ones((2, 9))
    savemat(path, {"feature": feature})
    with pytest.raises(ValueError, match=r"LandmineData\.mat.*lacks.*'label'"):
        load_landmine(tmp_path)
    label = np.empty((1, 2), dtype=object)
    label[0, 0], label[0, 1] = np.zeros((3, 1)), np.zeros((1, 1))
    savemat(path, {"feature": feature, "label": label})
    with pytest.raises(ValueError, match=r"field 2 must hold.*got features \(2, 9\)"):
        load_landmine(tmp_path)
    savemat(path, {"feature": feature, "label": label[:, :1]})
    with pytest.raises(ValueError, match="feature has 2 fields but label has 1"):
        load_landmine(tmp_path)


@pytest.mark.parametrize(
    "body, problem",
    [
        ("1,2,3\n4,5", "numbers only"),  # truncated last line
        ("1,2,3\n4,x,6\n", "numbers only"),
        ("", r"shape \(0,"),
        ("1,2\n3,4\n", r"rows of 3 numbers"),
        ("1,nan,3\n", "NaN or infinity"),
    ],
    ids=["truncated", "text", "empty", "columns", "nan"],
)
def test_concrete_broken_file_is_named(tmp_path, body, problem):
    _write_concrete(tmp_path, body)
    with pytest.raises(ValueError, match=rf"'concrete'.*Concrete_Data_Yeh.*{problem}"):
        load_concrete(tmp_path)


def test_concrete_binary_or_headerless_file_is_named(tmp_path):
    path = _write_concrete(tmp_path)
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match=r"'concrete'.*Concrete_Data_Yeh"):
        load_concrete(tmp_path)
    path.write_text("")
    with pytest.raises(ValueError, match=r"'concrete'.*header"):
        load_concrete(tmp_path)


def test_office_broken_files_are_named(tmp_path):
    folder = _write_office(tmp_path)
    _truncate(folder / "dslr_SURF_L10.mat", 0.3)
    with pytest.raises(ValueError, match=r"'office_caltech'.*dslr_SURF_L10\.mat"):
        load_office_caltech(tmp_path)
    savemat(folder / "dslr_SURF_L10.mat", {"fts": np.ones((4, 6)), "labels": [[1]] * 4})
    with pytest.raises(ValueError, match=r"dslr_SURF_L10\.mat.*\(n_images, 5\)"):
        load_office_caltech(tmp_path)
    savemat(folder / "dslr_SURF_L10.mat", {"fts": np.ones((4, 5)), "labels": [[1]] * 3})
    with pytest.raises(ValueError, match=r"dslr_SURF_L10\.mat.*3 labels"):
        load_office_caltech(tmp_path)
    savemat(folder / "dslr_SURF_L10.mat", {"fts": np.ones((4, 5)), "labels": [[1]] * 4})
    split = folder / (
        "splits_semisup_20trials/SameCategory_amazon-webcam_20RandomTrials_10Categories.mat"
    )
    savemat(split, {"train": {"source": 1}, "test": {"target": 2}})
    with pytest.raises(ValueError, match=r"amazon-webcam.*must be structs"):
        load_office_caltech(tmp_path)
    trial = np.empty((1, 1), dtype=object)
    trial[0, 0] = np.array([[1, 9]])
    savemat(
        split, {"train": {"source": trial, "target": trial}, "test": {"target": trial}}
    )
    with pytest.raises(ValueError, match=r"train\.source of trial 1 must be whole"):
        load_office_caltech(tmp_path)
    split.unlink()
    with pytest.raises(FileNotFoundError, match="amazon-webcam"):
        load_office_caltech(tmp_path)
