"""Training and evaluation code for the gateway's models; not part of the installed product."""
