"""Test-only helpers: a real HTTP server on 127.0.0.1, the stand-in Miniconda installer and its conda.

Product code never imports anything from here.
"""
