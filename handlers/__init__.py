"""Telegram adapters: read the update, call a service, render a template, return the next state."""
