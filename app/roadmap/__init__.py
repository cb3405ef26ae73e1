"""The roadmap planner: scores, a catalogue of actions and targets in; a phased plan out.

Pure like app.scoring (an import-linter contract keeps it so); it re-scores projected
answers with the same engine.
"""
