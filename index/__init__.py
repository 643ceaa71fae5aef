"""Parse the corpus into structured units, chunk them, embed them and store the index.

Data flows one way: ``corpus/`` -> ``index`` -> ``retrieval`` -> ``bot``.
Nothing here knows about Telegram.
"""
