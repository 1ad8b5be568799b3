"""Any text through the real encoder and the committed artifacts is served by the head."""

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings

from jeffrey_affect import AffectClassifier, preprocess_light
from tests.helpers import ANY_TEXT, assert_valid

Make = Callable[..., AffectClassifier]


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ANY_TEXT)
def test_any_text_through_the_real_encoder_gives_a_valid_result(
    make_classifier: Make, text: str
) -> None:
    r = make_classifier(log_enabled=False, cache_size=0).classify(text)
    assert_valid(r)
    if preprocess_light(text):
        assert (r.route, r.fallback_reason) == ("linear_head", None)
    else:
        assert (r.route, r.fallback_reason, r.emotion) == ("regex", "empty text", "neutral")
