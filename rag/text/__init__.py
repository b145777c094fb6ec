"""Text analysis shared by every stage: sentences (``sentences``) and words, stemmed as the
keyword index stems them (``words``); and text as it is shown, direction controls named
(``visible``)."""
