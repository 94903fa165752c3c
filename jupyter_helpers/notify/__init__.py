"""Notifications for long-running cells (kernel event -> cell record -> message -> sender)."""
