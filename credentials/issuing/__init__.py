"""Issuing credentials and keeping their status: the services and selectors, the Celery
tasks, recipients and bulk spreadsheets, the PDF certificate and badge artwork, and the
public pages of an issued credential with the node's verifier.
"""
