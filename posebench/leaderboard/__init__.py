"""Results folder -> DataFrame -> Markdown / HTML / CSV leaderboards (a pure function)."""

from posebench.leaderboard.table import collect_results, leaderboard_tables, render

__all__ = ["collect_results", "leaderboard_tables", "render"]
