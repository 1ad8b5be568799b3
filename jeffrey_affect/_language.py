"""PLACEHOLDER until the langid branch lands."""

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "fr", "de", "es", "it", "pt", "nl")


def identify(text: str) -> str | None:
    import py3langid

    code, _ = py3langid.classify(text)
    return str(code) if len(text.split()) >= 3 else None
