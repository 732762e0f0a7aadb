"""Randomized evaluations (随机评估): candidate villages, the seeded draw, surveys in
XLSForm, and the intent-to-treat analysis."""
