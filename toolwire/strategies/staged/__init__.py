"""The staged strategy (``strategy.py``: gate, select, segments, fill, repair), reading the
sentence from the turn's ``Reading``: the fitted gate and selection models (``relevance.py``,
``choice.py``, ``select.py``), literal evidence (``matching.py``), what the sentence settles by
itself (``settled.py``, ``followup.py``), filling a call (``fill.py``, ``priors.py``,
``spans.py``, ``examples.py``, ``prompts.py``) and the cutting of a sentence into several
calls (``segments.py``). Its word lists are in ``toolwire.text.lexicon``."""
