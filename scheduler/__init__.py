"""The month's jobs and the tick, driven by the calendar."""
