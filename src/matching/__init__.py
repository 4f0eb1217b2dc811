"""Ranking core: Swedish text analysis, CPV hierarchy, filters and TF-IDF ranking. No I/O."""
