"""Any text through the real encoders and the committed artifacts is served by a head; a language
outside the supported set is flagged."""

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
    clf = make_classifier(log_enabled=False, cache_size=0)
    r = clf.classify(text)
    assert_valid(r)
    if preprocess_light(text):
        assert r.route == "linear_head"
        if r.language in (None, *clf.languages):
            assert r.fallback_reason is None
        else:
            assert r.low_confidence
            assert r.fallback_reason == f"language {r.language!r} is not supported"
    else:
        assert (r.route, r.fallback_reason, r.emotion) == ("regex", "empty text", "neutral")
