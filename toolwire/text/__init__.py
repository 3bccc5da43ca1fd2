"""Reading sentences, shared by retrieval, the staged strategy and grounding: a sentence read
once into a ``Reading`` (``reading.py``) with its words and stems (``words.py``), numbers,
dates, times and quotes (``mentions.py``), clauses (``clauses.py``), places (``places.py``),
the conversion and arithmetic it asks for (``conversions.py``, ``arithmetic.py``); every
English word list they use is in ``lexicon.py``."""
