"""The edit engine, whole: the tagging model and its training (:mod:`.model`, ``rewrite
train-edit``) and inference over the rules rewrite (:mod:`.backend`)."""
