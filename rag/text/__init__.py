"""Text analysis shared by every stage: sentences (``sentences``) and words, stemmed as the
keyword index stems them (``words``)."""
