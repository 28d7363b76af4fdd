"""Shared configuration, messaging, reana.yaml validation and workspace helpers."""
