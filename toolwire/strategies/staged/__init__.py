"""The staged strategy: the caller (``caller.py``: select the function, fill its arguments), the
prompts it writes (``prompts.py``), where the sentence's values go (``priors.py``), span grammars
(``spans.py``) and the cutting of a sentence into several calls (``segments.py``)."""
