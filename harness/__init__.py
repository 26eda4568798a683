"""ocpp-harness: a conformance test harness for smart and bidirectional EV charging."""

__version__ = "0.1.0"
