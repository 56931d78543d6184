"""OpenSSH facts the program, the firewall table and the pack share.

Ref: sshd_config(5), ``Port`` (default 22); Hetzner's images run sshd with that default.
"""

from __future__ import annotations

# The port sshd listens on, on every server the program creates (and the one its firewall
# rules, the bastion's ruleset and the pack's public-SSH policy speak of).
SSH_PORT = 22
