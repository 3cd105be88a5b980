"""The instruments the field asked for, as chat flows: the reflection session, the pitfalls
poll, the figure-eight check, the impact matrix and the talk-plate.

Each module is one instrument; the engine reaches them through its command table, its
action kinds and its text flows. `common` holds what they share: who may lead, public
posts, and the anonymity thresholds.
"""
