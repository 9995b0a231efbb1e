"""Command-line entry points: parse arguments, call the API, turn input errors into messages."""
