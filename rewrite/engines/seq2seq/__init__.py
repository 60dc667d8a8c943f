"""The seq2seq engine, whole: its tokenizer (:mod:`.tokenizer`), training (:mod:`.train`, ``rewrite
train``), CTranslate2 export (:mod:`.export`) and inference (:mod:`.backend`)."""
