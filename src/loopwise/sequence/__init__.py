"""Token classification (named entities, BIO tags): sentences, the sequence loop, simulated runs against the store."""

from loopwise.sequence._data import SentenceData, load_sentences, sentence_file, sentence_vectors, split_sentences
from loopwise.sequence._loop import SequenceLoop, token_strategies
from loopwise.sequence._run import (
    KIND,
    PreparedSentences,
    SequenceConfig,
    build_sequence_loop,
    prepare_sentences,
    resume_sequence_run,
    sentence_oracle,
    simulate_sequences,
    stored_sequence_records,
)

__all__ = [
    "KIND",
    "PreparedSentences",
    "SentenceData",
    "SequenceConfig",
    "SequenceLoop",
    "build_sequence_loop",
    "load_sentences",
    "prepare_sentences",
    "resume_sequence_run",
    "sentence_file",
    "sentence_oracle",
    "sentence_vectors",
    "simulate_sequences",
    "split_sentences",
    "stored_sequence_records",
    "token_strategies",
]
