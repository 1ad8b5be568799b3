"""Conversation-level affect: recent turns, a smoothed mood, and whether the user is escalating."""

import math
import threading
from collections import deque
from collections.abc import Mapping, MutableMapping, Sequence
from itertools import pairwise
from typing import Any, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from jeffrey_affect._labels import EMOTIONS, Emotion
from jeffrey_affect._result import AffectResult

_HEATED: frozenset[Emotion] = frozenset({"frustration", "anger"})
_MIN_RISE = 0.15
_MAX_DIP = 0.15
_MIN_WINDOW = 2
"""The shortest escalation window a tracker takes, so a snapshot whose history is shorter cannot
be escalating."""


class Scored(Protocol):
    """What the escalation rule reads of a turn: an AffectResult, or what an agent keeps of one."""

    @property
    def emotion(self) -> Emotion: ...

    @property
    def scores(self) -> Mapping[Emotion, float]: ...


class Classifier(Protocol):
    """What the tracker needs from a classifier, so a scripted one can stand in for tests."""

    def classify(self, text: str) -> AffectResult: ...


class ConversationAffect(BaseModel):
    """A snapshot of one conversation's affect; JSON-able so it can live in an agent's state.

    ``latest`` is the last entry of ``history`` (oldest first, bounded by the tracker's
    ``history_size``), ``mood`` the smoothed score vector, ``escalation`` the rule documented on
    AffectTracker, ``turns`` every turn observed, including those history no longer holds, and
    ``escalation_window`` the window ``escalation`` was computed with: a tracker resumes only a
    snapshot of its own window. It is None in snapshots made before it was recorded.

    Raises:
        pydantic.ValidationError: ``latest`` is not the last entry of ``history``, ``turns``
            is less than its length, an entry's ``scores`` lack a label or hold a value outside
            [0, 1], ``mood`` lacks a label or holds a non-finite value, ``escalation_window`` is
            below 2, or ``escalation`` is True with fewer turns in ``history`` than the
            escalation window (without one, than any window): a snapshot edited into nonsense
            is refused.

    Example:
        >>> from jeffrey_affect import ConversationAffect
        >>> ConversationAffect.model_validate({"turns": 0}).escalation
        False
    """

    model_config = ConfigDict(frozen=True)

    latest: AffectResult | None = None
    history: list[AffectResult] = Field(default_factory=list)
    mood: dict[Emotion, float] = Field(default_factory=dict)
    escalation: bool = False
    turns: int = Field(default=0, ge=0)
    escalation_window: int | None = Field(default=None, ge=_MIN_WINDOW)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        # The snapshot travels through JSON in agent state; refuse one edited into nonsense.
        if self.latest != (self.history[-1] if self.history else None):
            raise ValueError("latest must be the last entry of history, or None when it is empty")
        if self.turns < len(self.history):
            raise ValueError(f"turns={self.turns} is less than len(history)={len(self.history)}")
        for i, entry in enumerate(self.history):
            if set(entry.scores) != set(EMOTIONS) or not all(
                0.0 <= v <= 1.0 for v in entry.scores.values()
            ):
                raise ValueError(
                    f"history[{i}].scores must hold a value in [0, 1] for each of {EMOTIONS}"
                )
        if self.mood and set(self.mood) != set(EMOTIONS):
            raise ValueError(f"mood must be empty or hold a value for each of {EMOTIONS}")
        if not all(math.isfinite(v) for v in self.mood.values()):
            raise ValueError("mood values must be finite")
        window = self.escalation_window or _MIN_WINDOW
        if self.escalation and len(self.history) < window:
            raise ValueError(
                f"escalation cannot be True with len(history)={len(self.history)}: "
                + (
                    f"the escalation window is {window}"
                    if self.escalation_window
                    else f"no escalation window is shorter than {_MIN_WINDOW}"
                )
            )
        return self


def _can_hold(state: BaseModel, key: str) -> bool:
    """Whether ``setattr(state, key, ...)`` can work: a field or extras allowed, and not frozen."""
    config = type(state).model_config
    if config.get("frozen"):
        return False
    return key in type(state).model_fields or config.get("extra") == "allow"


def _heat(result: Scored) -> float:
    return result.scores["frustration"] + result.scores["anger"]


ESCALATION_WINDOW = 3
"""The recent turns that is_escalating reads by default: a history must keep at least as many."""


def is_escalating(history: Sequence[Scored], window: int = ESCALATION_WINDOW) -> bool:
    """The escalation rule documented on AffectTracker, for loops that keep their own history,
    such as an agent's state.

    Args:
        history: The conversation's turns, oldest first: AffectResults, or anything with an
            ``emotion`` and ``scores`` for all eight labels.
        window: How many of the latest turns the rule looks at.

    Returns:
        Whether the user is escalating; False with fewer than ``window`` turns.

    Raises:
        KeyError: a turn's ``scores`` lacks "frustration" or "anger".

    Example:
        >>> from jeffrey_affect import AffectClassifier, AffectConfig, is_escalating
        >>> clf = AffectClassifier(AffectConfig(log_enabled=False))
        >>> turns = ["my order is late", "ugh, still nothing", "this is unacceptable, I'm furious"]
        >>> is_escalating([clf.classify(t) for t in turns])
        True
    """
    if len(history) < window:
        return False
    window_results = history[-window:]
    heat = [_heat(r) for r in window_results]
    latest = window_results[-1].emotion
    rising = (
        latest in _HEATED
        and heat[-1] - heat[0] >= _MIN_RISE
        and all(after - before >= -_MAX_DIP for before, after in pairwise(heat))
    )
    sustained = latest == "anger" and all(r.emotion in _HEATED for r in window_results)
    return rising or sustained


class AffectTracker:
    """Tracks one conversation's affect across user turns.

    ``mood`` is an exponential moving average of the turns' score vectors
    (``mood = alpha * scores + (1 - alpha) * mood``; the first turn sets it), so it sums to 1 and
    leans toward recent turns without flipping on one odd message.

    ``escalation``: let h(t) = scores["frustration"] + scores["anger"] of turn t, and look at the
    last w = ``escalation_window`` turns (never True before w turns). It is True when either

    - rising: the latest turn's emotion is frustration or anger, h(last) - h(first) >= 0.15, and no
      step from one turn to the next lowers h by more than 0.15; or
    - sustained: all w turns are frustration or anger and the latest is anger.

    Rising catches calm -> annoyed -> angry. The dip tolerance is that wide because, as a user
    gets angrier, the trained head moves some of h to disgust ("outrageous", "unacceptable"):
    on realistic calm -> annoyed -> furious turns h fell by 0.09-0.12 on the last step. A heated
    latest turn is required so that a user who just calmed down is not flagged.
    Sustained catches a user who is angry from the start, where h has no room to rise. It is
    recomputed on every turn, so it clears as soon as the rule stops holding.

    Low-confidence results count in history and mood like any other: the scores still carry
    information, and skipping turns would make the window span more of the conversation.

    ``observe`` may be called from several threads: classification runs outside the lock and
    the state updates are serialised in the order the classifications finish.

    Args:
        classifier: Anything with ``classify(str) -> AffectResult``, usually an AffectClassifier.
        history_size: How many results ``state.history`` keeps.
        mood_alpha: The moving average's weight on the newest turn, in (0, 1].
        escalation_window: The w of the escalation rule.

    Raises:
        ValueError: ``mood_alpha`` is outside (0, 1], ``escalation_window`` is below 2, or
            ``history_size`` is below ``escalation_window``.

    Example:
        >>> from jeffrey_affect import AffectClassifier, AffectConfig, AffectTracker
        >>> tracker = AffectTracker(AffectClassifier(AffectConfig(log_enabled=False)))
        >>> for turn in ["my order is late", "ugh, still nothing", "I'm furious, fix it NOW"]:
        ...     _ = tracker.observe(turn)
        >>> tracker.state.turns, tracker.state.latest.emotion, tracker.state.escalation
        (3, 'anger', True)
    """

    def __init__(
        self,
        classifier: Classifier,
        *,
        history_size: int = 20,
        mood_alpha: float = 0.3,
        escalation_window: int = ESCALATION_WINDOW,
    ) -> None:
        if not 0.0 < mood_alpha <= 1.0:
            raise ValueError(f"mood_alpha must be in (0, 1], got {mood_alpha}")
        if escalation_window < _MIN_WINDOW:
            raise ValueError(
                f"escalation_window must be at least {_MIN_WINDOW}, got {escalation_window}"
            )
        if history_size < escalation_window:
            raise ValueError(
                f"history_size ({history_size}) must be at least "
                f"escalation_window ({escalation_window})"
            )
        self._classifier = classifier
        self._alpha = mood_alpha
        self._window = escalation_window
        self._lock = threading.Lock()
        self._history: deque[AffectResult] = deque(maxlen=history_size)
        self._mood: dict[Emotion, float] = {}
        self._escalation = False
        self._turns = 0

    @classmethod
    def from_state(
        cls,
        classifier: Classifier,
        state: ConversationAffect | Mapping[str, Any],
        *,
        history_size: int = 20,
        mood_alpha: float = 0.3,
        escalation_window: int = ESCALATION_WINDOW,
    ) -> Self:
        """Resume a conversation from a snapshot, e.g. the dict ``attach`` left in agent state.

        A snapshot's ``escalation`` and history were kept for its ``escalation_window``, so
        another window is refused rather than read as if it were the snapshot's. A snapshot
        without one (made before snapshots recorded it) is taken to have this tracker's.

        Args:
            classifier: As for the constructor.
            state: A ConversationAffect, or its JSON-ready dict.
            history_size: As for the constructor; a longer snapshot keeps its latest entries.
            mood_alpha: As for the constructor.
            escalation_window: As for the constructor; the snapshot's, when it records one.

        Returns:
            A tracker that continues the conversation where the snapshot left it.

        Raises:
            pydantic.ValidationError: ``state`` is not a valid snapshot.
            ValueError: the settings are invalid, as for the constructor, or the snapshot
                records another ``escalation_window``.

        Example:
            >>> from jeffrey_affect import AffectClassifier, AffectConfig, AffectTracker
            >>> clf = AffectClassifier(AffectConfig(log_enabled=False))
            >>> conversation: dict[str, object] = {}
            >>> _ = AffectTracker(clf).attach(conversation, "my order is late")
            >>> AffectTracker.from_state(clf, conversation["affect"]).state.turns
            1
        """
        snapshot = ConversationAffect.model_validate(state)
        saved = snapshot.escalation_window
        if saved is not None and saved != escalation_window:
            raise ValueError(
                f"the snapshot was made with escalation_window={saved}, not {escalation_window}: "
                f"resume it with escalation_window={saved}, or start the conversation afresh "
                "with a new AffectTracker"
            )
        tracker = cls(
            classifier,
            history_size=history_size,
            mood_alpha=mood_alpha,
            escalation_window=escalation_window,
        )
        tracker._history.extend(snapshot.history)
        tracker._mood = dict(snapshot.mood)
        tracker._escalation = snapshot.escalation
        tracker._turns = snapshot.turns
        return tracker

    @property
    def state(self) -> ConversationAffect:
        """A consistent snapshot of the conversation so far (a copy: later turns leave it be)."""
        with self._lock:
            return self._snapshot()

    def observe(self, text: str) -> AffectResult:
        """Classify one user turn and fold it into the conversation state.

        Args:
            text: The user's turn.

        Returns:
            The turn's AffectResult; ``state`` then includes it.

        Raises:
            TypeError: ``text`` is not a str (from the classifier).
            KeyError: the classifier's result lacks a label; the state is left as it was.
            pydantic.ValidationError: the classifier's result has a score outside [0, 1]; the
                state is left as it was.
        """
        return self._observe(text)[0]

    def attach(
        self, state: MutableMapping[str, Any] | BaseModel, text: str, *, key: str = "affect"
    ) -> AffectResult:
        """Observe ``text`` and store the new state, as a JSON-able dict, in an agent's state.

        Args:
            state: The agent's state: a mutable mapping, or a pydantic model with a ``key``
                field.
            text: The user's turn.
            key: Where the snapshot goes.

        Returns:
            The turn's AffectResult.

        Raises:
            TypeError: ``state`` is neither a mutable mapping nor a pydantic model, or ``text``
                is not a str.
            ValueError: ``state`` is a pydantic model that cannot take ``key`` (no such field,
                or frozen); nothing is classified then.

        Example:
            >>> from jeffrey_affect import AffectClassifier, AffectConfig, AffectTracker
            >>> tracker = AffectTracker(AffectClassifier(AffectConfig(log_enabled=False)))
            >>> conversation: dict[str, object] = {}
            >>> tracker.attach(conversation, "my dog died today").emotion
            'sadness'
            >>> conversation["affect"]["latest"]["emotion"]
            'sadness'
        """
        if not isinstance(state, MutableMapping | BaseModel):
            raise TypeError(
                f"attach() needs a dict-like or pydantic model state, got {type(state).__name__}"
            )
        if isinstance(state, BaseModel) and not _can_hold(state, key):
            # Refused before the turn is classified: a failed attach leaves nothing behind.
            raise ValueError(
                f"{type(state).__name__} cannot store the snapshot: give it a mutable field "
                f"{key!r} (e.g. `{key}: dict[str, Any] | None = None`) or pass key="
            )
        result, snapshot = self._observe(text)
        dumped = snapshot.model_dump(mode="json")
        if isinstance(state, BaseModel):
            setattr(state, key, dumped)
        else:
            state[key] = dumped
        return result

    def _observe(self, text: str) -> tuple[AffectResult, ConversationAffect]:
        result = self._classifier.classify(text)
        with self._lock:
            # The new state is made and validated before any of it is kept: a turn that fails
            # (a result lacking a label, or a score outside [0, 1]) leaves the tracker as it was.
            history = deque(self._history, maxlen=self._history.maxlen)
            history.append(result)
            kept = list(history)
            if self._mood:
                a = self._alpha
                mood = {e: a * result.scores[e] + (1 - a) * self._mood[e] for e in EMOTIONS}
            else:
                mood = {e: result.scores[e] for e in EMOTIONS}
            snapshot = ConversationAffect(
                latest=result,
                history=kept,
                mood=mood,
                escalation=is_escalating(kept, self._window),
                turns=self._turns + 1,
                escalation_window=self._window,
            )
            self._history, self._mood = history, mood
            self._escalation, self._turns = snapshot.escalation, snapshot.turns
            return result, snapshot

    def _snapshot(self) -> ConversationAffect:
        history = list(self._history)
        return ConversationAffect(
            latest=history[-1] if history else None,
            history=history,
            mood=dict(self._mood),
            escalation=self._escalation,
            turns=self._turns,
            escalation_window=self._window,
        )
