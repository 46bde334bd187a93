"""Results folder -> DataFrame -> Markdown / HTML / CSV leaderboards (a pure function)."""

from posebench.leaderboard.table import BOLD, collect_results, leaderboard_tables, render

__all__ = ["BOLD", "collect_results", "leaderboard_tables", "render"]
