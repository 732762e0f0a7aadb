"""The centre's life: events, the services desk (bills, top-ups, tickets, errands),
the station screen and the partner's income."""
