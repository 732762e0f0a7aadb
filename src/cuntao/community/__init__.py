"""The station as a community centre (社区中心): digital-literacy training and certificates,
events, the services desk, the station screen and the partner's income.

The app is split by subdomain (training, centre); each subpackage has the usual
layers (models, services, selectors, api, views, urls) and the app-level modules
only gather them.
"""
