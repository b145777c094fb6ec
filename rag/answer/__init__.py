"""Answer: from retrieved passages to a cited answer, in one direction (``respond``).

``evidence`` splits the sources into sentences once and picks the key passages
and the excerpts a model reads; ``prompt`` fits them into the model's context;
``generate`` runs the model; ``verify`` checks each sentence it writes against
the sources; ``cite`` keeps every marker pointing at a real file, page and span;
``batch`` answers many questions with the models loaded once. ``model_info`` tells what
a GGUF model is from its header alone, and finds those already on this computer.
"""
