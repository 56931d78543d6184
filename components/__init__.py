"""Pulumi ComponentResources that build a k3s cluster on Hetzner Cloud, one job per module."""
