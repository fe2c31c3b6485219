"""What many test modules share: the app under Pilot, clients of the demo."""
