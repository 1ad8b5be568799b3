"""A terminal chatbot whose replies change tone with the user's emotion, with no framework at all.

Interactive:   python examples/tone_chatbot.py
Canned script: python examples/tone_chatbot.py --script examples/data/support_conversation.txt
In French:     python examples/tone_chatbot.py --script examples/data/conversation_fr.txt

Replies come from short templates so that it runs offline; in a real agent the directive's
``system_prompt`` goes to the model instead (see examples/langchain_pipeline.py).
"""

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from jeffrey_affect import AffectClassifier, AffectConfig, AffectTracker, TonePolicy

OPENINGS = {
    "de-escalate": "I'm sorry this keeps happening. Let's fix it now, or I can bring in a person.",
    "neutral": "Got it.",
    "supportive-brief": "That's frustrating, I understand. Next step:",
    "reassuring": "That sounds worrying. Here is exactly what happens next:",
    "calm-accountable": "You're right to be upset, and that's on us. Here's what I'll do:",
    "warm-gentle": "I'm really sorry. Take your time.",
    "upbeat": "That's great news!",
    "clarifying": "Surprising, I know. Let me explain:",
    "matter-of-fact": "Understood, that's unpleasant. Here are the facts:",
    "clear-helpful": "Sure.",
}


def reply(tone: str) -> str:
    return OPENINGS.get(tone, "Okay.")


def chat(turns: Iterable[str], tracker: AffectTracker, policy: TonePolicy) -> None:
    for text in turns:
        result = tracker.observe(text)
        directive = policy.for_result(result, escalation=tracker.state.escalation)
        print(f"you> {text}")
        print(
            f"     emotion: {result.emotion} {result.confidence:.2f} via {result.route}"
            f" ({result.language or 'language unknown'})"
        )
        print(f"     tone: {directive.tone}")
        print(f"bot> {reply(directive.tone)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", type=Path, help="a file of user turns, one a line")
    args = parser.parse_args()
    tracker = AffectTracker(AffectClassifier(AffectConfig(log_enabled=False)))
    if args.script:
        lines = args.script.read_text(encoding="utf-8").splitlines()
        chat((line for line in lines if line.strip()), tracker, TonePolicy())
    else:
        print("Type a message (Ctrl-D to quit).", file=sys.stderr)
        chat((line.rstrip("\n") for line in sys.stdin), tracker, TonePolicy())


if __name__ == "__main__":
    main()
