"""perfkit's sampler: what one sample costs against psutil's (a ratio within
one run), its CPU at 100 Hz (< 1 %), the deadlines it misses at 1 kHz."""
import pytest

import measure

pytestmark = pytest.mark.perf


@pytest.mark.quick
def test_the_samplers_cost(perf_judge, tmp_path):
    run = measure.sampler(tmp_path)
    perf_judge.check(run, "sampler.*", remeasure=lambda: measure.sampler(tmp_path))
