"""What redaction costs per turn, against the normalisation that every turn already pays.

    python benchmarks/redaction.py [--rounds R] [--output PATH]

Writes only its own section of RESULTS.md; ``benchmarks/run.py`` writes it too. For each kind of
turn, rounds alternate which of ``redact`` and ``preprocess_light`` goes first, each timed over
the same turns; the ratio is the median of the rounds' ratios, so load from other work hits both
of its sides alike.
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ray_scoring import replace_section

from jeffrey_affect import preprocess_light, redact

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Redaction"
CALLS = 200  # calls per kind, side and round

# Each kind: what its turns hold, and the turns, each about 130 characters.
KINDS: dict[str, tuple[str, list[str]]] = {
    "plain": (
        "no digit, `@` or `:` (the fast path)",
        [
            "I have been waiting for the refund for weeks and nobody answers my emails, this is "
            "honestly the worst support I have ever dealt with",
            "thanks so much for sorting that out so quickly, you really saved my evening and I "
            "will tell my friends about the shop, great job",
            "the app keeps logging me out every time I switch to another tab and I lose whatever "
            "I was typing, can you please look into it",
            "my parcel says delivered but there is nothing at the door and the neighbours have "
            "not seen it either, what am I supposed to do now?",
        ],
    ),
    "secret words": (
        "no digit, `@` or `:`, but a word that names a secret (password, code, PIN, at/dot)",
        [
            "I forgot my password again and the reset code never arrives, this is the third "
            "time today and I am really losing my patience here",
            "the bank blocked my card after I typed the wrong PIN and now the verification "
            "code goes to my old phone, which I no longer have",
            "mon mot de passe ne marche plus depuis la mise à jour et le code de vérification "
            "n'arrive jamais, je suis vraiment à bout",
            "write to me at the support address, not the sales one, the point is that nobody "
            "there ever answers a customer who is waiting",
        ],
    ),
    "digits": (
        "a date, a time, an order number and a phone number",
        [
            "order 123456 was due on 2024-05-01 and it is now 10:30, call me back on (202) "
            "555-0143 or I will cancel the whole thing today",
            "rappelez-moi au 06 12 34 56 78 avant 18h, la commande 98765 devait arriver le "
            "05/01/2024 et toujours rien du tout",
            "I paid $1,299.99 for this laptop on 12 March and the battery died after 3 weeks, "
            "ticket 12345678, my number is 07911 123456",
            "the meeting is at 3:45pm on 2024-05-01, room 1204, floor 3, and I still have no "
            "confirmation at all from anyone on your side",
        ],
    ),
    "secrets": (
        "a password, an e-mail, a card and a one-time code",
        [
            "my password is Tr0ub4dor&3 and my email is jo.doe@example.com but the login still "
            "fails, the code was 482913, card 4111 1111 1111 1111",
            "username jdoe password Xk9!mQ2v, the verification code: 771204, and my IBAN is "
            "GB82 WEST 1234 5698 7654 32 for the refund please",
            "postgresql://admin:S3cretPw@db.internal:5432/app stopped working after the "
            "update, the OTP 560917 did not help, mail me at jo at gmail dot com",
            "mi contraseña es Gato#2024 y el código de verificación 339102 no llega nunca, "
            "llámame al 612 345 678 o escribe a ana[at]correo.es",
        ],
    ),
}


def per_call_us(fn: Callable[[str], object], turns: list[str]) -> float:
    started = time.perf_counter()
    for i in range(CALLS):
        fn(turns[i % len(turns)])
    return (time.perf_counter() - started) / CALLS * 1e6


def measure(rounds: int) -> dict[str, tuple[float, float, float]]:
    """Per kind: redact's and the baseline's median µs per turn, and the median ratio."""
    results = {}
    for kind, (_, turns) in KINDS.items():
        for turn in turns:  # warm the folding cache and the patterns
            redact(turn)
        sides: tuple[list[float], list[float]] = ([], [])
        for r in range(rounds):
            steps = [(0, redact), (1, preprocess_light)]
            for side, fn in steps if r % 2 else steps[::-1]:
                sides[side].append(per_call_us(fn, turns))
        ratios = [a / b for a, b in zip(*sides, strict=True)]
        results[kind] = (
            statistics.median(sides[0]),
            statistics.median(sides[1]),
            statistics.median(ratios),
        )
    return results


def section(rounds: int, command: str) -> str:
    """This benchmark's section of RESULTS.md."""
    load_before = os.getloadavg()[0]
    results = measure(rounds)
    load_after = os.getloadavg()[0]
    rows = [
        f"| {kind} | {what} | {redact_us:.1f} | {baseline_us:.1f} | {ratio:.1f} |"
        for (kind, (what, _)), (redact_us, baseline_us, ratio) in zip(
            KINDS.items(), results.values(), strict=True
        )
    ]
    return "\n".join(
        [
            HEADING,
            "",
            f"Written by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (1-minute load"
            f" average {load_before:.2f} before, {load_after:.2f} after). Four turns of about"
            f" 130 characters per kind, {CALLS} calls per side in each of {rounds} rounds; the"
            " baseline is `preprocess_light`, the normalisation every turn gets before it is"
            " classified.",
            "",
            "| turns | holding | `redact`, µs | baseline, µs | `redact` / baseline |",
            "|---|---|---|---|---|",
            *rows,
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()
    body = section(args.rounds, " ".join(["python", *sys.argv]))
    replace_section(args.output, body, HEADING)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
