"""Route 3: a regex lexicon for chat turns, the classifier of last resort (it needs no model)."""

import re
from collections.abc import Sequence
from typing import cast

import numpy as np

from jeffrey_affect._labels import EMOTIONS, Emotion

_AUX = r"(?:is|are|was|were|do|does|did|has|have|had|ca|could|would|wo|should)"
_NOT = rf"(?:not|never|cannot|{_AUX}n'?t)"

# Patterns match lowercased text whose stretched letters are cut: to one at a word's end
# ("soooo" -> "so", "pleaseee" -> "please"), to two inside it ("loooove" -> "loove", hence
# "lo+ve"). The dict order is the tie-break when two cues start at the same place: specific
# phrases first ("no thanks" before "thanks", "broke my heart" before "broke"). Patterns must not
# contain capturing groups.
_CUES: dict[Emotion, tuple[str, ...]] = {
    "neutral": (
        r"ok(?:ay|ey)?",
        r"k+",
        r"alright",
        r"all right",
        r"sure",
        r"got it",
        r"noted",
        r"understood",
        r"fine",
        r"i see",
        r"fair enough",
        r"makes sense",
        r"no (?:worries|problem|prob|thanks|thank you)",
        r"never ?mind",
        r"nvm",
        r"sorry to (?:bother|disturb|trouble)",
        r"good (?:morning|afternoon|evening|night)",
    ),
    "sadness": (
        r"sad(?:ly|ness|der|dest)?",
        r"unhappy",
        r"depress(?:ed|ing|ion)",
        r"miserable",
        r"heartbr(?:oken|eaking)",
        r"broke my heart",
        r"devastat(?:ed|ing)",
        r"gutted",
        r"bummed",
        r"upset",
        r"cry(?:ing)?",
        r"cried",
        r"tears",
        r"lonely",
        r"hopeless",
        r"grie(?:f|ve|ving)",
        r"mourn(?:ing)?",
        r"passed away",
        r"funeral",
        r"lost my (?:mom|mum|dad|mother|father|wife|husband|son|daughter|friend|dog|cat|job)",
        r"miss(?:ing)? (?:you|him|her|them)",
        r"sorry",
        r"apologi[sz]e",
        r"regret(?:s|ted|ting)?",
        r"ashamed",
        r"embarrass(?:ed|ing|ment)",
        r"my (?:bad|fault)",
        r"feel(?:s|ing)? (?:so |really |very )?(?:bad|down|low|terrible|awful|blue)",
        r"too bad",
        r"bad news",
        r"unfortunate(?:ly)?",
        r"hurt(?:s|ing)?",
        r"sigh",
        r"[😢😭💔😞😔☹🙁😿🥺😥😓]",
        r":'-?\(+",
        r":-?\(+",
        r"t_t",
        r";_;",
    ),
    "fear": (
        r"afraid",
        r"scar(?:ed|y|es|ing)",
        r"frighten(?:ed|ing|s)?",
        r"terrif(?:ied|ying|ies)",
        r"fear(?:s|ed|ful)?",
        r"worr(?:y|ied|ies|ying)",
        r"anxious",
        r"anxiety",
        r"nervous",
        r"panic(?:s|ked|king)?",
        r"freak(?:ing|ed)? out",
        r"concern(?:ed|ing)",
        r"dread(?:ing|ed)?",
        r"stress(?:ed|ful)",
        r"overwhelm(?:ed|ing)",
        r"uneasy",
        r"unsafe",
        r"danger(?:ous)?",
        r"threat(?:s|en|ened|ening)?",
        r"hacked",
        r"stolen",
        r"compromised",
        r"emergency",
        r"(?:i'?m|am) in trouble",
        r"[😱😨😰😟😧😬]",
        r"d:",
    ),
    "disgust": (
        r"disgust(?:s|ed|ing)?",
        r"gross(?:ed out)?",
        r"e+w+",
        r"yu+c?k+y?",
        r"nasty",
        r"vile",
        r"revolting",
        r"repuls(?:ive|ed)",
        r"sickening",
        r"nause(?:a|ous|ating)",
        r"ma(?:de|kes?|king) me (?:want to )?(?:sick|puke|vomit|throw up)",
        r"puke",
        r"vomit",
        r"creepy",
        r"filthy",
        r"appall(?:ed|ing)",
        r"shameful",
        r"despicable",
        r"cringe\w*",
        r"pathetic",
        r"sleazy",
        r"rotten",
        r"stinks?",
        r"[🤢🤮]",
    ),
    "surprise": (
        r"surpris(?:e|ed|es|ing|ingly)",
        r"shock(?:ed|ing|ingly)?",
        r"stunned",
        r"astonish(?:ed|ing)",
        r"amazed",
        r"speechless",
        r"wo+w+",
        r"who+a+",
        r"woah",
        r"omg+",
        r"oh my (?:god|gosh|goodness|lord)",
        r"no way",
        r"unbelievable",
        r"(?:can'?t|cannot|can not|couldn'?t) believe",
        r"(?:didn'?t|did not|never) expect(?:ed)?",
        r"unexpected(?:ly)?",
        r"out of nowhere",
        r"wait,? what",
        r"really\?",
        r"for real\?",
        r"huh+",
        r"interesting",
        r"curious",
        r"wonder(?:ing|ed)?",
        r"confus(?:ed|ing|ion)",
        r"puzzl(?:ed|ing)",
        r"baffl(?:ed|ing)",
        r"(?:don'?t|do not|doesn'?t|didn'?t) (?:understand|get it)",
        r"what do you mean",
        r"how come",
        r"reali[sz](?:e|ed|ing)",
        r"turns out",
        r"(?:i )?had no idea",
        r"never knew",
        r"who knew",
        r"[😮😲🤯😯😳🙀😦⁉]",
        r":-?o",
        r"o[._]o",
        r"o_0",
        r"0_o",
    ),
    "anger": (
        r"angry",
        r"anger(?:ed)?",
        r"mad",
        r"furious",
        r"fuming",
        r"livid",
        r"pissed(?: off)?",
        r"piss(?:es|ing)? me off",
        r"infuriat(?:ed|es|ing)",
        r"enrag(?:ed|ing)",
        r"rage",
        r"outrag(?:e|ed|eous)",
        r"hate[sd]?",
        r"hating",
        r"hatred",
        r"wtf",
        r"stfu",
        r"the (?:hell|fuck)",
        r"f+u+c+k+\w*",
        r"screw (?:you|this|that|it|them|off)",
        r"damn ?it",
        r"dammit",
        r"god ?damn\w*",
        r"bullshit",
        r"bs",
        r"shut up",
        r"how dare",
        r"unacceptable",
        r"disgrace(?:ful)?",
        r"scam(?:s|med|mers?)?",
        r"rip(?:ped)?[ -]?off",
        r"stupid",
        r"idiot(?:s|ic)?",
        r"moron(?:s|ic)?",
        r"dumb",
        r"incompeten(?:t|ce)",
        r"i(?:'ll| will) (?:sue|report)",
        r"lawyer",
        r"[😡🤬😠👿💢🖕]",
        r">:-?[(\[]+",
    ),
    "frustration": (
        r"annoy(?:s|ed|ing|ance)?",
        r"frustrat(?:ed|es|ing|ion)",
        r"irritat(?:ed|es|ing)",
        r"exasperat(?:ed|ing)",
        r"aggravat(?:ed|ing)",
        r"u+g+h+",
        r"a+r+g+h+",
        r"g+r+",
        r"meh",
        r"smh",
        r"ffs",
        r"jeez",
        r"geez",
        r"come on",
        r"seriously",
        r"the heck",
        rf"{_NOT} (?:even |really |actually |always )?work(?:s|ed|ing)?",
        rf"{_NOT} help(?:s|ed|ing)?",
        rf"still (?:not|no|nothing|broken|waiting|down|the same|{_AUX}n'?t)",
        r"(?:yet|once) again",
        r"not again",
        r"(?:happen|crash|fail|broke|froze|freez|stopp|disconnect)\w* again",
        r"keeps? (?:on )?(?:crash|fail|freez|break|happen|disconnect|glitch|drop|restart)\w*",
        r"keeps? (?:logging|kicking) me out",
        r"keep getting",
        r"(?:second|third|fourth|fifth|tenth|umpteenth|\d+(?:st|nd|rd|th)) time",
        r"how many times",
        r"(?:been )?waiting (?:for )?(?:hours|days|weeks|ages|forever|so long)",
        r"tak(?:es|ing|en) (?:forever|ages|so long)",
        r"no (?:response|reply|answer|help)",
        r"(?:nobody|no one) (?:is )?(?:answer|repl|help|respond|listen|care)\w*",
        r"unhelpful",
        r"useless",
        r"pointless",
        r"waste of (?:time|money)",
        r"wast(?:ing|ed) my (?:time|money)",
        r"sick (?:and tired )?of",
        r"tired of",
        r"fed up",
        r"had enough",
        r"ridiculous",
        r"absurd",
        r"nonsense",
        r"(?:is|what) a joke",
        r"disappoint(?:s|ed|ing|ment)?",
        r"let(?:ting)? (?:me |us )?down",
        r"terrible",
        r"awful",
        r"horrible",
        r"worst",
        r"suck(?:s|ed|y)?",
        r"crap(?:py)?",
        r"rubbish",
        r"garbage",
        r"trash",
        r"lame",
        r"bad",
        r"wrong",
        r"disagree",
        r"(?:makes|made|making) no sense",
        r"(?:does|did)n'?t make (?:any )?sense",
        r"broken",
        r"broke",
        r"buggy",
        r"glitch(?:y|es|ing)?",
        r"la+g+(?:gy|ging)",
        r"crash(?:es|ed|ing)?",
        r"hassle",
        r"nightmare",
        r"pain in the (?:ass|neck|butt)",
        r"whatever",
        r"[😤🙄😒😑😩😫😖😣]",
        r"-_-",
        r":-?/(?!/)",
        r":-?\\",
        r":-?\|",
    ),
    "joy": (
        r"happ(?:y|ier|iest|ily|iness)",
        r"glad",
        r"pleased",
        r"delighted",
        r"thrilled",
        r"excit(?:ed|ing|ement)",
        r"stoked",
        r"(?:can'?t|cannot) wait",
        r"looking forward",
        r"lo+ve[sd]?",
        r"loving",
        r"lovely",
        r"adore",
        r"enjoy(?:s|ed|ing)?",
        r"fun",
        r"funny",
        r"hilarious",
        r"ha(?:ha)+h?",
        r"he(?:he)+",
        r"lol+",
        r"lmf?ao+",
        r"rofl",
        r"great",
        r"awesome",
        r"amazing",
        r"excellent",
        r"fantastic",
        r"wonderful",
        r"brilliant",
        r"superb",
        r"perfect(?:ly)?",
        r"outstanding",
        r"incredible",
        r"terrific",
        r"nice",
        r"cool",
        r"sweet",
        r"neat",
        r"beautiful",
        r"cute",
        r"good",
        r"best",
        r"(?:much|way|so much|feel(?:s|ing)?) better",
        r"than(?:k|x)(?:s|ful|you|u)?",
        r"thx",
        r"ty(?:sm|vm)?",
        r"appreciat(?:e|ed|es|ing|ion)",
        r"grateful",
        r"cheers",
        r"relie(?:f|ved)",
        r"phew",
        r"finally",
        r"proud",
        r"congrat(?:s|ulations)?",
        r"well done",
        r"hope(?:s|d|fully)?",
        r"ya+y+",
        r"wo+(?:ho+)?",
        r"hooray",
        r"hurray",
        r"yes+!",
        r"yum+y?",
        r"helpful",
        r"satisf(?:ied|ying|action)",
        r"recommend",
        r"agree[sd]?",
        r"works? (?:now|again|perfectly|great|fine)",
        r"working (?:now|again|perfectly|great|fine)",
        r"(?:that|it|this) (?:worked|did the trick|fixed it|helped)",
        r"(?:problem|issue)(?:'s| is)? (?:solved|fixed|resolved|sorted)",
        r"not (?:too |that |so |half )?bad",
        r"(?:couldn'?t|could not) be (?:happier|better)",
        r"[😀😃😄😁😆😂🤣😊🙂😉😍🥰😘😻🤩🥳🎉🎊👍👏🙌💪✨💖💕💗💙💚💛💜🧡🙏😎☺❤♥]",
        r":-?\)+",
        r"\(:",
        r"=\)+",
        r":-?\]",
        r";-?\)+",
        r":-?d+",
        r"x-?d+",
        r"\^_?\^",
        r"<3+",
        r":-?p",
    ),
}

_EDGE = r"(?!(?<=\w)\w)"
"""Asserts we are not inside a word: "fun" must not match in "refund", ":D" not in "Mode:Dark"."""

_CUE_START = r"[\w'(:;<=>^-]|[^\x00-\x7f]"
"""Every character a cue can begin with: letters, digits, the emoticons' first marks and any
non-ASCII character (emoji). Checked first, it spares the search the whole alternation at each
space and punctuation mark; a test draws strings from every pattern to hold it complete."""

_CUE_RE = re.compile(
    f"(?={_CUE_START})"
    + _EDGE
    + "(?:"
    + "|".join(f"(?P<{label}>{'|'.join(patterns)})" for label, patterns in _CUES.items())
    + ")"
    + _EDGE
)
_STRETCH_RE = re.compile(r"([^\W\d_])\1{2,}(?!\w)|(.)\2{2,}", re.DOTALL)
"""A run of three or more: of letters at a word's end (group 1), cut to one; else (group 2), to
two. One pass: ``sub`` writes an unmatched group as nothing."""
_CLAUSE_BREAK_RE = re.compile(r"[.!?;,:]|\bbut\b")
_NEGATED_RE = re.compile(
    rf"\b(?:{_NOT}|no|without|hardly|barely|nothing|nobody)\b(?:\W+\w+){{0,2}}\W*$"
)
_WORD_RE = re.compile(r"[^\W\d_]+")
_EMPHASIS_RE = re.compile(r"!{2,}|\?{2,}")
_INTERROBANG_RE = re.compile(r"\?!|!\?")

_CUE_WEIGHT = 1.0
_NEUTRAL_CUE_WEIGHT = 0.3
"""Acknowledgements ("ok", "got it") only nudge: one real emotion cue should still win."""
_NEUTRAL_BASE = 0.6
"""Below one cue, so any cue beats neutral, yet cue-less text still comes out neutral."""
_SHOUT_WEIGHT = 1.5
"""Above one cue: "THIS IS RIDICULOUS" reads as anger although its word says frustration."""
_SMOOTHING = 0.1
_NEGATION_WINDOW = 40
_EMPHASIS_STEP = 0.25
_MAX_EMPHASIS = 3


def lexicon_scores(text: str) -> dict[Emotion, float]:
    """Scores over all eight EMOTIONS, each in [0, 1], summing to 1 (within 1e-9).

    Additive smoothing over cue weights keeps one cue's confidence modest (about 0.45).
    """
    weights = _cue_weights(_normalise(text))
    _apply_intensity(text, weights)
    total = sum(weights.values()) + _SMOOTHING * len(EMOTIONS)
    return {label: (weights[label] + _SMOOTHING) / total for label in EMOTIONS}


def lexicon_features(texts: Sequence[str]) -> np.ndarray:
    """The eight scores per text in ``EMOTIONS`` order: the regex route's answer, and features the
    head weighs as chat cues it has learnt."""
    rows = [list(lexicon_scores(t).values()) for t in texts]  # lexicon_scores keeps that order
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(EMOTIONS))


def _normalise(text: str) -> str:
    return _STRETCH_RE.sub(r"\1\2\2", text.lower().replace("\u2019", "'"))


def _cue_weights(text: str) -> dict[Emotion, float]:
    weights = dict.fromkeys(EMOTIONS, 0.0)
    weights["neutral"] = _NEUTRAL_BASE
    previous_end = 0
    for match in _CUE_RE.finditer(text):
        label = cast(Emotion, match.lastgroup)
        # The negator must lie after the previous cue: "can't believe it worked" is not negated.
        before = text[max(previous_end, match.start() - _NEGATION_WINDOW) : match.start()]
        previous_end = match.end()
        if label == "neutral":
            weights["neutral"] += _NEUTRAL_CUE_WEIGHT
        elif not _negated(before):
            weights[label] += _CUE_WEIGHT
        elif label == "joy":
            # "not happy", "not helpful": in a support chat that is a complaint.
            weights["frustration"] += _CUE_WEIGHT
    return weights


def _negated(before: str) -> bool:
    """A negator up to three words before the cue, in the same clause ("not very happy")."""
    return _NEGATED_RE.search(_CLAUSE_BREAK_RE.split(before)[-1]) is not None


def _apply_intensity(text: str, weights: dict[Emotion, float]) -> None:
    """Shouting, "!!!" and "?!" raise the cues present, and add their own lean when alone."""
    words = _WORD_RE.findall(text)
    caps = [word for word in words if len(word) >= 2 and word.isupper()]
    negative = weights["anger"] + weights["frustration"] + weights["disgust"] > 0
    if _INTERROBANG_RE.search(text):
        weights["frustration" if negative else "surprise"] += _CUE_WEIGHT
    shouting = len(caps) >= 2 and 2 * len(caps) >= len(words)
    if shouting and weights["joy"] + weights["surprise"] == 0:
        weights["anger" if negative else "frustration"] += _SHOUT_WEIGHT
    emphasis = min(len(caps) + len(_EMPHASIS_RE.findall(text)), _MAX_EMPHASIS)
    for label in EMOTIONS:
        if label != "neutral":
            weights[label] *= 1 + _EMPHASIS_STEP * emphasis
