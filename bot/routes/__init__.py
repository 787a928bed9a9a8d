"""Web routes of ``qbsync serve`` besides Slack's: connecting QuickBooks in the browser and the TMS
events endpoint. ``register(web, slack_app, services)`` adds them to the Flask app."""

from __future__ import annotations

from flask import Flask
from slack_bolt import App

from bot.routes import connect, tms


def register(web: Flask, slack_app: App, services) -> None:
    connect.register(web, slack_app, services)
    tms.register(web, services)
