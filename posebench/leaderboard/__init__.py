"""Results folder -> DataFrame -> Markdown / HTML / CSV leaderboards (a pure function)."""

from posebench.leaderboard.board import BOLD, Leaderboard
from posebench.leaderboard.formats import FORMATS, render
from posebench.leaderboard.table import collect_results, leaderboard_tables

__all__ = ["BOLD", "FORMATS", "Leaderboard", "collect_results", "leaderboard_tables", "render"]
