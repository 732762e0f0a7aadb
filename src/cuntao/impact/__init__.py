"""What the network changes in villagers' lives (影响评估): indicators from operating
records, dashboards and reports, and randomized evaluations with surveys.

The app is split by subdomain (indicators, evaluation); each subpackage has the usual
layers (models, services, selectors, api, views, urls) and the app-level modules
only gather them.
"""
