"""Text helpers shared by retrieval and the staged strategy: words, identifiers and stems
(``words.py``); the values a sentence holds: numbers, dates, times, quotes (``mentions.py``)."""
