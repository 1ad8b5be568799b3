"""LangChain integration for jeffrey-affect.

``AffectMiddleware`` and ``AffectState`` need the ``agents`` extra (``langchain``); they are
imported on first use so the Runnables work with langchain-core alone.
"""

from typing import TYPE_CHECKING, Any

from langchain_jeffrey_affect._runnable import AffectRunnable
from langchain_jeffrey_affect._text import AffectInput
from langchain_jeffrey_affect._tone import tone_runnable

if TYPE_CHECKING:
    from langchain_jeffrey_affect._middleware import AffectMiddleware, AffectState

__all__ = ["AffectInput", "AffectMiddleware", "AffectRunnable", "AffectState", "tone_runnable"]


def __getattr__(name: str) -> Any:
    if name in ("AffectMiddleware", "AffectState"):
        try:
            from langchain_jeffrey_affect import _middleware
        except ModuleNotFoundError as exc:
            if (exc.name or "").partition(".")[0] != "langchain":
                raise
            raise ImportError(
                f"{name} needs langchain: pip install 'langchain-jeffrey-affect[agents]'"
            ) from exc
        return getattr(_middleware, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
