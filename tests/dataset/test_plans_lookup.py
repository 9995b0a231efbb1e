"""-d / -p resolution of a preprocessed dataset's plans."""

from __future__ import annotations

import pytest

from samseg.errors import SamsegInputError
from samseg.plans_lookup import load_preprocessed_plans, preprocessed_plans_file
from tests.inference.helpers import make_plans


def test_plans_are_found_by_id_or_name_and_a_missing_one_lists_what_exists(roots) -> None:
    folder = roots["preprocessed"] / "Dataset950_Inference"
    folder.mkdir(parents=True)
    plans = make_plans()
    plans.save(folder / f"{plans.plans_name}.json")
    assert preprocessed_plans_file("950", plans.plans_name) == folder / f"{plans.plans_name}.json"
    assert load_preprocessed_plans("Inference", plans.plans_name) == plans
    listed = r"expected the plans other \(found \['samsegPlans'\]\)"
    with pytest.raises(SamsegInputError, match=listed):
        load_preprocessed_plans("950", "other")
