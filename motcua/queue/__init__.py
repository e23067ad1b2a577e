"""The queue (hàng đợi) of the centre: numbers, counters, calls — framework-free rules over the database."""
