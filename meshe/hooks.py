"""Questions a lower app asks and a higher app answers, so that nothing imports upward.

The lower app owns the hook (a module-level `Hook`), the higher app registers its answer in its
AppConfig.ready(). Without an answer the hook gives its default: the lower app works alone.
"""

from collections.abc import Callable


class Hook[**P, R]:
    """One question with at most one answerer; calling the hook asks it."""

    def __init__(self, name: str, *, default: Callable[P, R]) -> None:
        self.name = name
        self._default = default
        self._answer: Callable[P, R] | None = None

    def answer_with(self, answer: Callable[P, R]) -> Callable[P, R]:
        """Registers `answer`; registering the same function again changes nothing."""
        if self._answer is not None and self._answer is not answer:
            raise RuntimeError(f"{self.name} already has an answer")
        self._answer = answer
        return answer

    @property
    def answered(self) -> bool:
        """Whether an app registered its answer (all of them are once the apps are ready)."""
        return self._answer is not None

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        answer = self._answer or self._default
        return answer(*args, **kwargs)
