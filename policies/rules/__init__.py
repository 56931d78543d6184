"""Policy rules, one module per subject. Each policy has a stable kebab-case name, a description,
a severity, remediation steps and an exact message naming the offending resource and the fix."""
