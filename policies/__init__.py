"""The k3s-hcloud CrossGuard policy pack: rules in ``policies.rules``, assembled in ``pack``."""
