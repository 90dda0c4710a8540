"""The manager console: windows, services, notices, live figures, reports."""
